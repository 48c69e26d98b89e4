"""natalizumab-cds: clinical decision support and monitoring for natalizumab therapy."""

__version__ = "0.1.0"
