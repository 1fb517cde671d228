class StackError(Exception):
    """Something the operator can fix, said in one sentence (with a log path where there is one)."""
