"""shoal_client: subscribe to a shoal engine, operate it, read its data into pandas.

    from shoal_client import Subscriber
    with Subscriber("tcp://127.0.0.1:5556", ["z"], snapshot="tcp://127.0.0.1:5557",
                    catch_up=10) as sub:
        for out in sub:                      # Output(node, id, seq, bucket, value)
            print(out.node, out.seq, out.bucket, out.rows()[:3])

See clients/python/README.md.
"""
from .admin import Admin, AdminError
from .output import DecodeError, Output
from .subscriber import Gap, Subscriber, SubscriberError, snapshot
from .tidy import tidy_rows


def read_outputs(*args, **kwargs):
    """A data dir's outputs as a pandas DataFrame (shoal_client.data.read_outputs)."""
    from .data import read_outputs as read  # pandas and lmdb only when asked for
    return read(*args, **kwargs)


__all__ = ["Admin", "AdminError", "DecodeError", "Gap", "Output", "Subscriber",
           "SubscriberError", "read_outputs", "snapshot", "tidy_rows"]
__version__ = "0.1.0"
