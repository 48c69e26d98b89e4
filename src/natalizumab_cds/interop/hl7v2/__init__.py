"""HL7 v2 lab results: ORU^R01 reader, ACK encoder and the MLLP listener.

``OruReader`` is the lab feed's reader port; ``Hl7Endpoint`` joins the use case
and the ACK encoder for both transports (MLLP here, ``POST /hl7`` in ``api``).
"""

from natalizumab_cds.interop.hl7v2.ack import encode_ack
from natalizumab_cds.interop.hl7v2.endpoint import Hl7Endpoint
from natalizumab_cds.interop.hl7v2.errors import Hl7Rejected
from natalizumab_cds.interop.hl7v2.message import OruReader, read_oru
from natalizumab_cds.interop.hl7v2.mllp import MllpLimits, MllpServer, frame

__all__ = [
    "Hl7Endpoint",
    "Hl7Rejected",
    "MllpLimits",
    "MllpServer",
    "OruReader",
    "encode_ack",
    "frame",
    "read_oru",
]
