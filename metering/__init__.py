"""metering: usage metering and tenant chargeback for VMware Cloud Director providers.

Data flows sources → lake → rating → reports → pipelines; each stage is a sub-package.
"""

__version__ = "0.1.0"
