"""syncer: GitOps for Kubernetes whose source of truth lives on Sui and Walrus."""

__all__ = ["__version__"]

__version__ = "0.1.0"
