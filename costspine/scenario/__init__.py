"""Reading: scenario files (with ``extends``), their sections, evidence files and budget-impact
sections. The only reader of these files; every problem of a file is collected by one
:class:`~costspine.scenario.collector.Collector` and raised together.
"""
