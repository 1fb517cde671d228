from tdkt_localstack.kafka import new_cluster_id


def test_cluster_ids_never_look_like_options():
    # 1 plain id in 64 starts with '-'; 2,000 draws would all but surely include some.
    ids = [new_cluster_id() for _ in range(2000)]
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
    assert len(set(ids)) == 2000
