"""One module per input format; each defines a ``RecordReader`` subclass."""
