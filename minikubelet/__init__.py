"""minikubelet: one machine as a Kubernetes node.

Real Pod manifests run on the local Docker engine with the kubelet's semantics and kubectl's look.
The layers and the direction of their imports are drawn in DESIGN.md ("The house").
"""

__version__ = "0.1.0"
# The Kubernetes release whose API-server and kubelet behaviour minikubelet follows.
KUBERNETES_VERSION = "v1.32.0"
