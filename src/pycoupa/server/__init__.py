"""The unified API server: integrated accounts, a credential vault, unified reads and the proxy."""
