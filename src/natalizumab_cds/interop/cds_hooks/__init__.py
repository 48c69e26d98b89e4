"""CDS Hooks 2.0: discovery, hook calls turned into assessments and cards, feedback.

``wire`` holds every wire model; ``keys`` and ``tokens`` authenticate the EHR;
``prefetch`` and ``fetch`` gather the record; ``cards`` renders an assessment;
``service`` ties them together for the API.
"""
