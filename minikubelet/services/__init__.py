"""Services on one node: endpoints from the pods' readiness, the traffic rules, cluster DNS.

The endpoint rules (`endpoints.py`) and the kubelet's service variables (`envvars.py`) are pure
functions of objects; the controller, the proxy and DNS act on them in the agent.
"""
