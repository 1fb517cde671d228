"""The TĐKT system on one machine without Docker: Apache Kafka from Maven Central jars, FerretDB
(MongoDB wire protocol, SQLite backend) built from the Go module proxy, the four services, one
supervisor for `make up`, and the pytest plugin that gives tests the same real servers."""
