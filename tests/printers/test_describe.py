"""Golden tests of `describe pod`: kubectl 1.32's bytes for pods in every state, at a pinned `now`.

Every expected text below was checked against the real kubectl 1.32.4 (`kubectl describe pod`
against a stub API server serving the same pod and events). The texts are data, so this module
runs past the usual 400 lines, and past 100 columns where kubectl's lines do. Several lines end
in spaces (`Medium:`, the condition rows): kubectl writes them so.
"""

# ruff: noqa: E501

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import yaml

from minikubelet.api.codec import format_time
from minikubelet.api.raw import JSON
from minikubelet.printers.describe import describe_pod, describe_pods
from minikubelet.printers.describe_fields import annotation_lines, probe_text, qos_class
from minikubelet.printers.describe_sections import event_rows

Case = tuple[JSON, list[JSON]]
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
NODE, HOST_IP, POD_IP = "node1", "172.30.0.1", "172.30.0.5"
APP: JSON = {
    "name": "app",
    "image": "webapl:1",
    "ports": [{"containerPort": 3000, "protocol": "TCP"}],
}
HTTP: JSON = {
    "timeoutSeconds": 1,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
}


# The fixtures keep a pod's fields on few lines, the way a manifest is read.
# fmt: off

def ago(seconds: float) -> str:
    return format_time(NOW - timedelta(seconds=seconds))


def conditions(ready: str = "True", init: str = "True", sandbox: str = "True") -> list[JSON]:
    """The five conditions of a kubelet-managed pod, in the kubelet's order."""
    pairs = [("PodReadyToStartContainers", sandbox), ("Initialized", init), ("Ready", ready)]
    pairs += [("ContainersReady", ready), ("PodScheduled", "True")]
    return [{"type": kind, "status": status} for kind, status in pairs]


def event(
    type_: str,
    reason: str,
    message: str,
    first: float,
    last: float | None = None,
    count: int = 1,
    component: str = "kubelet",
    pod: str = "web",
) -> JSON:
    """A core/v1 Event as the kubelet's recorder (or the scheduler) writes it."""
    return {
        "metadata": {"name": f"{pod}.{reason}", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": pod, "uid": f"uid-{pod}"},
        "type": type_,
        "reason": reason,
        "message": message,
        "firstTimestamp": ago(first),
        "lastTimestamp": ago(first if last is None else last),
        "count": count,
        "source": {"component": component, "host": NODE if component == "kubelet" else ""},
        "eventTime": None,
    }


def scheduled(name: str, containers: list[JSON], statuses: list[JSON], **extra: Any) -> JSON:
    """A pod bound to node1, its status as the kubelet writes it (override with `extra`)."""
    spec = extra.pop("spec", {})
    status = {
        "phase": "Running",
        "hostIP": HOST_IP,
        "podIP": POD_IP,
        "podIPs": [{"ip": POD_IP}],
        "startTime": ago(300),
        "qosClass": "BestEffort",
        "conditions": conditions(),
        "containerStatuses": statuses,
        **extra,
    }
    meta = {"name": name, "namespace": "default", "uid": f"uid-{name}", **spec.pop("metadata", {})}
    return {
        "metadata": meta,
        "spec": {"containers": containers, "restartPolicy": "Always", "nodeName": NODE, **spec},
        "status": status,
    }


def cstatus(
    name: str,
    state: JSON,
    *,
    ready: bool = False,
    restarts: int = 0,
    last: JSON | None = None,
    image: str = "webapl:1",
    cid: str = "docker://c0ffee",
) -> JSON:
    return {
        "name": name,
        "state": state,
        "lastState": last or {},
        "ready": ready,
        "restartCount": restarts,
        "image": image,
        "imageID": f"docker-pullable://{image}@sha256:1234" if cid else "",
        "containerID": cid,
    }


def terminated(code: int, reason: str, started: float, finished: float, **more: Any) -> JSON:
    return {
        "terminated": {
            "exitCode": code,
            "reason": reason,
            "startedAt": ago(started),
            "finishedAt": ago(finished),
            **more,
        }
    }


VERIFIED_POD = """
metadata:
  name: web
  namespace: default
  uid: uid-web
  labels: {tier: fe, app: web}
  annotations: {note: hello, kubectl.kubernetes.io/last-applied-configuration: "{}\\n"}
spec:
  priority: 0
  serviceAccountName: default
  nodeName: minikube
  nodeSelector: {kubernetes.io/os: linux}
  containers:
  - name: web
    image: nginx:1.25
    command: [/bin/sh, -c]
    args: [echo hi; sleep 3600]
    ports: [{containerPort: 3000, protocol: TCP}]
    resources: {limits: {cpu: 500m, memory: 128Mi}, requests: {cpu: 250m, memory: 64Mi}}
    livenessProbe: {httpGet: {path: /healthz, port: 3000, scheme: HTTP}, initialDelaySeconds: 3, timeoutSeconds: 1, periodSeconds: 5, successThreshold: 1, failureThreshold: 3}
    readinessProbe: {exec: {command: [cat, /tmp/ready]}, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3}
    startupProbe: {tcpSocket: {port: 3000}, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 30}
    env:
    - {name: MODE, value: prod}
    - {name: POD_NAME, valueFrom: {fieldRef: {apiVersion: v1, fieldPath: metadata.name}}}
    volumeMounts:
    - {name: host, mountPath: /host, readOnly: true, subPath: sub}
    - {name: data, mountPath: /data}
    - {name: kube-api-access-abcde, mountPath: /var/run/secrets/kubernetes.io/serviceaccount, readOnly: true}
  volumes:
  - {name: data, emptyDir: {}}
  - {name: host, hostPath: {path: /srv, type: Directory}}
  - name: kube-api-access-abcde
    projected:
      defaultMode: 420
      sources:
      - serviceAccountToken: {expirationSeconds: 3607, path: token}
      - configMap: {name: kube-root-ca.crt, items: [{key: ca.crt, path: ca.crt}]}
      - downwardAPI: {items: [{path: namespace, fieldRef: {apiVersion: v1, fieldPath: metadata.namespace}}]}
  tolerations:
  - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 300}
  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}
status:
  phase: Running
  hostIP: 192.168.49.2
  podIP: 10.244.0.5
  podIPs: [{ip: 10.244.0.5}]
  startTime: "2024-03-04T05:06:07Z"
  qosClass: Burstable
  containerStatuses:
  - name: web
    ready: true
    restartCount: 3
    image: nginx:1.25
    imageID: docker-pullable://nginx@sha256:abc
    containerID: docker://0123456789ab
    state: {running: {startedAt: "2024-03-04T05:07:08Z"}}
    lastState: {terminated: {exitCode: 137, reason: OOMKilled, startedAt: "2024-03-04T05:06:08Z", finishedAt: "2024-03-04T05:07:07Z"}}
"""


def verified() -> Case:
    """The reference's §5.7 pod, as a real 1.32 cluster (with its admission plugins) stores it."""
    pod = yaml.safe_load(VERIFIED_POD)
    pod["status"]["conditions"] = conditions()
    return pod, [
        event("Normal", "Scheduled", "Successfully assigned default/web to minikube", 309, component="default-scheduler"),
        event("Normal", "Pulled", 'Container image "nginx:1.25" already present on machine', 306, 51, 4),
        event("Normal", "Created", "Created container web", 306, 51, 4),
        event("Warning", "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500", 206, 18, 3),
    ]


def pending_exact() -> Case:
    """The reference's pending, unscheduled pod with no statuses and no events."""
    status = {"phase": "Pending", "qosClass": "BestEffort", "conditions": [{"type": "PodScheduled", "status": "False"}]}
    pod = {"metadata": {"name": "pend", "namespace": "default"}, "status": status}
    pod["spec"] = {"containers": [{"name": "main", "image": "busybox"}]}
    return pod, []


def unscheduled() -> Case:
    """Pending: the nodeSelector matches no node; the scheduler's FailedScheduling, x3."""
    pod = scheduled("web", [APP], [], spec={"nodeName": "", "nodeSelector": {"disktype": "ssd"}})
    pod["status"] = {"phase": "Pending", "qosClass": "BestEffort", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}
    message = (
        "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    )
    return pod, [event("Warning", "FailedScheduling", message, 75, 15, 3, component="default-scheduler")]


def creating() -> Case:
    """ContainerCreating: scheduled, no sandbox yet, the container waiting without an ID."""
    waiting = cstatus("app", {"waiting": {"reason": "ContainerCreating"}}, cid="")
    pod = scheduled("web", [APP], [waiting], phase="Pending", podIP="", podIPs=[], conditions=conditions("False", sandbox="False"))
    return pod, [
        event("Normal", "Scheduled", "Successfully assigned default/web to node1", 3, component="default-scheduler"),
        event("Normal", "Pulling", 'Pulling image "webapl:1"', 2),
    ]


def ready() -> Case:
    """Running and ready, with the seed webapl's probes."""
    live = {"httpGet": {"path": "/healthz", "port": 3000, "scheme": "HTTP"}, "initialDelaySeconds": 3, **HTTP, "periodSeconds": 5}
    app = {**APP, "livenessProbe": live, "readinessProbe": {"httpGet": {"path": "/ready", "port": 3000, "scheme": "HTTP"}, **HTTP}}
    running = cstatus("app", {"running": {"startedAt": ago(298)}}, ready=True)
    pod = scheduled("web", [app], [running], spec={"metadata": {"labels": {"app": "web"}}})
    return pod, [
        event("Normal", "Scheduled", "Successfully assigned default/web to node1", 300, component="default-scheduler"),
        event("Normal", "Pulled", 'Container image "webapl:1" already present on machine', 299),
        event("Normal", "Created", "Created container: app", 299),
        event("Normal", "Started", "Started container app", 298),
    ]


def not_ready() -> Case:
    """Running, not ready: the readiness probe fails, x3 over 15s."""
    pod, events = ready()
    pod["status"]["containerStatuses"][0]["ready"] = False
    pod["status"]["conditions"] = conditions("False")
    message = "Readiness probe failed: HTTP probe failed with statuscode: 503"
    return pod, [*events, event("Warning", "Unhealthy", message, 15, 5, 3)]


def crashloop() -> Case:
    """CrashLoopBackOff: waiting, Last State Error with its exit code, BackOff x7."""
    app = {**APP, "command": ["sh", "-c", "echo starting; exit 1"]}
    waiting = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"}}
    last = terminated(1, "Error", 42, 41, containerID="docker://0ld")
    status = cstatus("app", waiting, restarts=3, last=last)
    pod = scheduled("web", [app], [status], conditions=conditions("False"))
    return pod, [
        event("Normal", "Pulled", 'Container image "webapl:1" already present on machine', 120, 42, 4),
        event("Normal", "Created", "Created container: app", 120, 42, 4),
        event("Normal", "Started", "Started container app", 119, 42, 4),
        event("Warning", "BackOff", "Back-off restarting failed container app in pod web_default(uid-web)", 100, 6, 7),
    ]


def oomkilled() -> Case:
    """OOMKilled under restartPolicy Never: Failed, Terminated 137, Guaranteed."""
    limits = {"memory": "64Mi", "cpu": "1"}
    app = {**APP, "resources": {"limits": limits, "requests": limits}}
    status = cstatus("app", terminated(137, "OOMKilled", 100, 90))
    spec = {"restartPolicy": "Never"}
    pod = scheduled("web", [app], [status], spec=spec, phase="Failed", qosClass="Guaranteed", conditions=conditions("False", sandbox="False"))
    return pod, []


def completed() -> Case:
    """Succeeded: Terminated Completed with a message, exit 0."""
    job = {"name": "job", "image": "busybox", "args": ["echo", "done"]}
    status = cstatus("job", terminated(0, "Completed", 30, 29, message="all done"), image="busybox")
    pod = scheduled("job", [job], [status], phase="Succeeded", conditions=conditions("False", sandbox="False"))
    return pod, []


def init_running() -> Case:
    """Init:1/2: i1 done, i2 running, the app waiting in PodInitializing."""
    inits = [{"name": "i1", "image": "busybox", "command": ["true"]}, {"name": "i2", "image": "busybox", "command": ["sh", "-c", "sleep 30"]}]
    init_statuses = [
        cstatus("i1", terminated(0, "Completed", 20, 19), image="busybox", cid="docker://i1"),
        cstatus("i2", {"running": {"startedAt": ago(18)}}, image="busybox", cid="docker://i2"),
    ]
    waiting = cstatus("app", {"waiting": {"reason": "PodInitializing"}}, cid="")
    pod = scheduled("web", [APP], [waiting], spec={"initContainers": inits}, phase="Pending", conditions=conditions("False", init="False"), initContainerStatuses=init_statuses)
    return pod, []


def terminating() -> Case:
    """Deleted 5s ago with 30s of grace: the deadline is ahead, so kubectl says `<invalid>`."""
    pod, events = ready()
    pod["metadata"] |= {"deletionTimestamp": ago(-25), "deletionGracePeriodSeconds": 30}
    return pod, [*events, event("Normal", "Killing", "Stopping container app", 5)]


def overdue() -> Case:
    """A deletion whose deadline passed 12s ago: `lasts 12s`."""
    pod, _ = ready()
    pod["metadata"] |= {"deletionTimestamp": ago(12), "deletionGracePeriodSeconds": 1}
    return pod, []


MULTI_SPEC = """
priority: 1000
priorityClassName: high
nodeSelector: {kubernetes.io/os: linux, disktype: ssd}
readinessGates: [{conditionType: example.com/feature}]
tolerations:
- {operator: Exists}
- {key: dedicated, operator: Equal, value: web, effect: NoSchedule}
containers:
- name: web
  image: nginx:1.25
  command: [sh, -c, "line one\\nline two"]
  ports: [{containerPort: 80, protocol: TCP, hostPort: 8080}, {containerPort: 443, protocol: TCP}]
  resources: {limits: {memory: 256Mi}, requests: {cpu: 100m, memory: 128Mi}}
  livenessProbe: {httpGet: {path: healthz, port: http, host: 127.0.0.1, scheme: HTTPS}, timeoutSeconds: 2, periodSeconds: 10, successThreshold: 1, failureThreshold: 3}
  readinessProbe: {grpc: {port: 9000, service: ""}, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3}
  startupProbe: {tcpSocket: {port: http, host: localhost}, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3}
  env:
  - {name: GREETING, value: "hello\\nworld"}
  - {name: EMPTY}
  - {name: NS, valueFrom: {fieldRef: {apiVersion: v1, fieldPath: metadata.namespace}}}
  - {name: IP, valueFrom: {fieldRef: {apiVersion: v1, fieldPath: status.podIP}}}
  - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
  - {name: CPU, valueFrom: {resourceFieldRef: {resource: limits.cpu, divisor: "0"}}}
  - {name: REQ, valueFrom: {resourceFieldRef: {resource: requests.cpu, divisor: 1m}}}
  - {name: PASS, valueFrom: {secretKeyRef: {name: s, key: k}}}
  - {name: CONF, valueFrom: {configMapKeyRef: {name: c, key: k, optional: true}}}
  envFrom: [{configMapRef: {name: base}}, {secretRef: {name: creds, optional: true}, prefix: P_}]
  volumeMounts: [{name: cache, mountPath: /cache}, {name: logs, mountPath: /var/log, readOnly: true, subPath: web}]
- {name: sidecar, image: busybox, args: [tail, -f, /var/log/web.log], volumeMounts: [{name: logs, mountPath: /logs}]}
volumes:
- {name: cache, emptyDir: {medium: Memory, sizeLimit: 64Mi}}
- {name: logs, hostPath: {path: /var/log/pods, type: ""}}
- {name: raw, hostPath: {path: /tmp}}
- {name: conf, configMap: {name: c, optional: true}}
- {name: sec, secret: {secretName: s}}
- {name: info, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}
"""


def multi() -> Case:
    """Two containers: env of every kind, envFrom, mounts, probes, limits, volumes, gates."""
    spec = yaml.safe_load(MULTI_SPEC)
    statuses = [
        cstatus("web", {"running": {"startedAt": ago(200)}}, ready=True, image="nginx:1.25", cid="docker://aaa"),
        cstatus("sidecar", {"running": {"startedAt": ago(199)}}, ready=True, image="busybox", cid="docker://bbb"),
    ]
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "multi-5d8f", "uid": "u", "controller": True}
    annotations = {"long": "x" * 150, "multi": "a\nb\n", "short": "s"}
    labels = {"app": "multi", "tier": "web", "version": "v2"}
    spec["metadata"] = {"labels": labels, "annotations": annotations, "ownerReferences": [owner]}
    pod = scheduled("multi", spec.pop("containers"), statuses, spec=spec, qosClass="Burstable")
    return pod, [event("Normal", "Started", "Started container web", 200, pod="multi")]
# fmt: on


# -- the expected texts: kubectl 1.32.4's output for the pods above, at NOW ------------------

VERIFIED = """\
Name:             web
Namespace:        default
Priority:         0
Service Account:  default
Node:             minikube/192.168.49.2
Start Time:       Mon, 04 Mar 2024 05:06:07 +0000
Labels:           app=web
                  tier=fe
Annotations:      note: hello
Status:           Running
IP:               10.244.0.5
IPs:
  IP:  10.244.0.5
Containers:
  web:
    Container ID:  docker://0123456789ab
    Image:         nginx:1.25
    Image ID:      docker-pullable://nginx@sha256:abc
    Port:          3000/TCP
    Host Port:     0/TCP
    Command:
      /bin/sh
      -c
    Args:
      echo hi; sleep 3600
    State:          Running
      Started:      Mon, 04 Mar 2024 05:07:08 +0000
    Last State:     Terminated
      Reason:       OOMKilled
      Exit Code:    137
      Started:      Mon, 04 Mar 2024 05:06:08 +0000
      Finished:     Mon, 04 Mar 2024 05:07:07 +0000
    Ready:          True
    Restart Count:  3
    Limits:
      cpu:     500m
      memory:  128Mi
    Requests:
      cpu:      250m
      memory:   64Mi
    Liveness:   http-get http://:3000/healthz delay=3s timeout=1s period=5s #success=1 #failure=3
    Readiness:  exec [cat /tmp/ready] delay=0s timeout=1s period=10s #success=1 #failure=3
    Startup:    tcp-socket :3000 delay=0s timeout=1s period=10s #success=1 #failure=30
    Environment:
      MODE:      prod
      POD_NAME:  web (v1:metadata.name)
    Mounts:
      /data from data (rw)
      /host from host (ro,path="sub")
      /var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-abcde (ro)
Conditions:
  Type                        Status
  PodReadyToStartContainers   True 
  Initialized                 True 
  Ready                       True 
  ContainersReady             True 
  PodScheduled                True 
Volumes:
  data:
    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)
    Medium:     
    SizeLimit:  <unset>
  host:
    Type:          HostPath (bare host directory volume)
    Path:          /srv
    HostPathType:  Directory
  kube-api-access-abcde:
    Type:                    Projected (a volume that contains injected data from multiple sources)
    TokenExpirationSeconds:  3607
    ConfigMapName:           kube-root-ca.crt
    ConfigMapOptional:       <nil>
    DownwardAPI:             true
QoS Class:                   Burstable
Node-Selectors:              kubernetes.io/os=linux
Tolerations:                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
                             node.kubernetes.io/unreachable:NoExecute op=Exists for 300s
Events:
  Type     Reason     Age                  From               Message
  ----     ------     ----                 ----               -------
  Normal   Scheduled  5m9s                 default-scheduler  Successfully assigned default/web to minikube
  Normal   Pulled     51s (x4 over 5m6s)   kubelet            Container image "nginx:1.25" already present on machine
  Normal   Created    51s (x4 over 5m6s)   kubelet            Created container web
  Warning  Unhealthy  18s (x3 over 3m26s)  kubelet            Liveness probe failed: HTTP probe failed with statuscode: 500
"""


PENDING_EXACT = """\
Name:         pend
Namespace:    default
Node:         <none>
Labels:       <none>
Annotations:  <none>
Status:       Pending
IP:           
IPs:          <none>
Containers:
  main:
    Image:        busybox
    Port:         <none>
    Host Port:    <none>
    Environment:  <none>
    Mounts:       <none>
Conditions:
  Type           Status
  PodScheduled   False 
Volumes:         <none>
QoS Class:       BestEffort
Node-Selectors:  <none>
Tolerations:     <none>
Events:          <none>
"""


UNSCHEDULED = """\
Name:         web
Namespace:    default
Node:         <none>
Labels:       <none>
Annotations:  <none>
Status:       Pending
IP:           
IPs:          <none>
Containers:
  app:
    Image:        webapl:1
    Port:         3000/TCP
    Host Port:    0/TCP
    Environment:  <none>
    Mounts:       <none>
Conditions:
  Type           Status
  PodScheduled   False 
Volumes:         <none>
QoS Class:       BestEffort
Node-Selectors:  disktype=ssd
Tolerations:     <none>
Events:
  Type     Reason            Age                From               Message
  ----     ------            ----               ----               -------
  Warning  FailedScheduling  15s (x3 over 75s)  default-scheduler  0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.
"""


CREATING = """\
Name:         web
Namespace:    default
Node:         node1/172.30.0.1
Start Time:   Wed, 01 May 2024 11:55:00 +0000
Labels:       <none>
Annotations:  <none>
Status:       Pending
IP:           
IPs:          <none>
Containers:
  app:
    Container ID:   
    Image:          webapl:1
    Image ID:       
    Port:           3000/TCP
    Host Port:      0/TCP
    State:          Waiting
      Reason:       ContainerCreating
    Ready:          False
    Restart Count:  0
    Environment:    <none>
    Mounts:         <none>
Conditions:
  Type                        Status
  PodReadyToStartContainers   False 
  Initialized                 True 
  Ready                       False 
  ContainersReady             False 
  PodScheduled                True 
Volumes:                      <none>
QoS Class:                    BestEffort
Node-Selectors:               <none>
Tolerations:                  <none>
Events:
  Type    Reason     Age   From               Message
  ----    ------     ----  ----               -------
  Normal  Scheduled  3s    default-scheduler  Successfully assigned default/web to node1
  Normal  Pulling    2s    kubelet            Pulling image "webapl:1"
"""


READY = """\
Name:         web
Namespace:    default
Node:         node1/172.30.0.1
Start Time:   Wed, 01 May 2024 11:55:00 +0000
Labels:       app=web
Annotations:  <none>
Status:       Running
IP:           172.30.0.5
IPs:
  IP:  172.30.0.5
Containers:
  app:
    Container ID:   docker://c0ffee
    Image:          webapl:1
    Image ID:       docker-pullable://webapl:1@sha256:1234
    Port:           3000/TCP
    Host Port:      0/TCP
    State:          Running
      Started:      Wed, 01 May 2024 11:55:02 +0000
    Ready:          True
    Restart Count:  0
    Liveness:       http-get http://:3000/healthz delay=3s timeout=1s period=5s #success=1 #failure=3
    Readiness:      http-get http://:3000/ready delay=0s timeout=1s period=10s #success=1 #failure=3
    Environment:    <none>
    Mounts:         <none>
Conditions:
  Type                        Status
  PodReadyToStartContainers   True 
  Initialized                 True 
  Ready                       True 
  ContainersReady             True 
  PodScheduled                True 
Volumes:                      <none>
QoS Class:                    BestEffort
Node-Selectors:               <none>
Tolerations:                  <none>
Events:
  Type    Reason     Age    From               Message
  ----    ------     ----   ----               -------
  Normal  Scheduled  5m     default-scheduler  Successfully assigned default/web to node1
  Normal  Pulled     4m59s  kubelet            Container image "webapl:1" already present on machine
  Normal  Created    4m59s  kubelet            Created container: app
  Normal  Started    4m58s  kubelet            Started container app
"""


CRASHLOOP = """\
Name:         web
Namespace:    default
Node:         node1/172.30.0.1
Start Time:   Wed, 01 May 2024 11:55:00 +0000
Labels:       <none>
Annotations:  <none>
Status:       Running
IP:           172.30.0.5
IPs:
  IP:  172.30.0.5
Containers:
  app:
    Container ID:  docker://c0ffee
    Image:         webapl:1
    Image ID:      docker-pullable://webapl:1@sha256:1234
    Port:          3000/TCP
    Host Port:     0/TCP
    Command:
      sh
      -c
      echo starting; exit 1
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       Error
      Exit Code:    1
      Started:      Wed, 01 May 2024 11:59:18 +0000
      Finished:     Wed, 01 May 2024 11:59:19 +0000
    Ready:          False
    Restart Count:  3
    Environment:    <none>
    Mounts:         <none>
Conditions:
  Type                        Status
  PodReadyToStartContainers   True 
  Initialized                 True 
  Ready                       False 
  ContainersReady             False 
  PodScheduled                True 
Volumes:                      <none>
QoS Class:                    BestEffort
Node-Selectors:               <none>
Tolerations:                  <none>
Events:
  Type     Reason   Age                 From     Message
  ----     ------   ----                ----     -------
  Normal   Pulled   42s (x4 over 2m)    kubelet  Container image "webapl:1" already present on machine
  Normal   Created  42s (x4 over 2m)    kubelet  Created container: app
  Normal   Started  42s (x4 over 119s)  kubelet  Started container app
  Warning  BackOff  6s (x7 over 100s)   kubelet  Back-off restarting failed container app in pod web_default(uid-web)
"""


OOMKILLED = """\
Name:         web
Namespace:    default
Node:         node1/172.30.0.1
Start Time:   Wed, 01 May 2024 11:55:00 +0000
Labels:       <none>
Annotations:  <none>
Status:       Failed
IP:           172.30.0.5
IPs:
  IP:  172.30.0.5
Containers:
  app:
    Container ID:   docker://c0ffee
    Image:          webapl:1
    Image ID:       docker-pullable://webapl:1@sha256:1234
    Port:           3000/TCP
    Host Port:      0/TCP
    State:          Terminated
      Reason:       OOMKilled
      Exit Code:    137
      Started:      Wed, 01 May 2024 11:58:20 +0000
      Finished:     Wed, 01 May 2024 11:58:30 +0000
    Ready:          False
    Restart Count:  0
    Limits:
      cpu:     1
      memory:  64Mi
    Requests:
      cpu:        1
      memory:     64Mi
    Environment:  <none>
    Mounts:       <none>
Conditions:
  Type                        Status
  PodReadyToStartContainers   False 
  Initialized                 True 
  Ready                       False 
  ContainersReady             False 
  PodScheduled                True 
Volumes:                      <none>
QoS Class:                    Guaranteed
Node-Selectors:               <none>
Tolerations:                  <none>
Events:                       <none>
"""


INIT_RUNNING = """\
Name:         web
Namespace:    default
Node:         node1/172.30.0.1
Start Time:   Wed, 01 May 2024 11:55:00 +0000
Labels:       <none>
Annotations:  <none>
Status:       Pending
IP:           172.30.0.5
IPs:
  IP:  172.30.0.5
Init Containers:
  i1:
    Container ID:  docker://i1
    Image:         busybox
    Image ID:      docker-pullable://busybox@sha256:1234
    Port:          <none>
    Host Port:     <none>
    Command:
      true
    State:          Terminated
      Reason:       Completed
      Exit Code:    0
      Started:      Wed, 01 May 2024 11:59:40 +0000
      Finished:     Wed, 01 May 2024 11:59:41 +0000
    Ready:          False
    Restart Count:  0
    Environment:    <none>
    Mounts:         <none>
  i2:
    Container ID:  docker://i2
    Image:         busybox
    Image ID:      docker-pullable://busybox@sha256:1234
    Port:          <none>
    Host Port:     <none>
    Command:
      sh
      -c
      sleep 30
    State:          Running
      Started:      Wed, 01 May 2024 11:59:42 +0000
    Ready:          False
    Restart Count:  0
    Environment:    <none>
    Mounts:         <none>
Containers:
  app:
    Container ID:   
    Image:          webapl:1
    Image ID:       
    Port:           3000/TCP
    Host Port:      0/TCP
    State:          Waiting
      Reason:       PodInitializing
    Ready:          False
    Restart Count:  0
    Environment:    <none>
    Mounts:         <none>
Conditions:
  Type                        Status
  PodReadyToStartContainers   True 
  Initialized                 False 
  Ready                       False 
  ContainersReady             False 
  PodScheduled                True 
Volumes:                      <none>
QoS Class:                    BestEffort
Node-Selectors:               <none>
Tolerations:                  <none>
Events:                       <none>
"""


MULTI = """\
Name:                 multi
Namespace:            default
Priority:             1000
Priority Class Name:  high
Node:                 node1/172.30.0.1
Start Time:           Wed, 01 May 2024 11:55:00 +0000
Labels:               app=multi
                      tier=web
                      version=v2
Annotations:          long:
                        xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...
                      multi:
                        a
                        b
                      short: s
Status:               Running
IP:                   172.30.0.5
IPs:
  IP:           172.30.0.5
Controlled By:  ReplicaSet/multi-5d8f
Containers:
  web:
    Container ID:  docker://aaa
    Image:         nginx:1.25
    Image ID:      docker-pullable://nginx:1.25@sha256:1234
    Ports:         80/TCP, 443/TCP
    Host Ports:    8080/TCP, 0/TCP
    Command:
      sh
      -c
      line one
      line two
    State:          Running
      Started:      Wed, 01 May 2024 11:56:40 +0000
    Ready:          True
    Restart Count:  0
    Limits:
      memory:  256Mi
    Requests:
      cpu:      100m
      memory:   128Mi
    Liveness:   http-get https://127.0.0.1:http/healthz delay=0s timeout=2s period=10s #success=1 #failure=3
    Readiness:  grpc <pod>:9000  delay=0s timeout=1s period=10s #success=1 #failure=3
    Startup:    tcp-socket localhost:http delay=0s timeout=1s period=10s #success=1 #failure=3
    Environment Variables from:
      base   ConfigMap                Optional: false
      creds  Secret with prefix 'P_'  Optional: true
    Environment:
      GREETING:  hello
                 world
      EMPTY:     
      NS:        default (v1:metadata.namespace)
      IP:         (v1:status.podIP)
      MEM:       256 (limits.memory)
      CPU:       node allocatable (limits.cpu)
      REQ:       100 (requests.cpu)
      PASS:      <set to the key 'k' in secret 's'>      Optional: false
      CONF:      <set to the key 'k' of config map 'c'>  Optional: true
    Mounts:
      /cache from cache (rw)
      /var/log from logs (ro,path="web")
  sidecar:
    Container ID:  docker://bbb
    Image:         busybox
    Image ID:      docker-pullable://busybox@sha256:1234
    Port:          <none>
    Host Port:     <none>
    Args:
      tail
      -f
      /var/log/web.log
    State:          Running
      Started:      Wed, 01 May 2024 11:56:41 +0000
    Ready:          True
    Restart Count:  0
    Environment:    <none>
    Mounts:
      /logs from logs (rw)
Readiness Gates:
  Type                  Status
  example.com/feature   <none> 
Conditions:
  Type                        Status
  PodReadyToStartContainers   True 
  Initialized                 True 
  Ready                       True 
  ContainersReady             True 
  PodScheduled                True 
Volumes:
  cache:
    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)
    Medium:     Memory
    SizeLimit:  64Mi
  logs:
    Type:          HostPath (bare host directory volume)
    Path:          /var/log/pods
    HostPathType:  
  raw:
    Type:          HostPath (bare host directory volume)
    Path:          /tmp
    HostPathType:  <none>
  conf:
    Type:      ConfigMap (a volume populated by a ConfigMap)
    Name:      c
    Optional:  true
  sec:
    Type:        Secret (a volume populated by a Secret)
    SecretName:  s
    Optional:    false
  info:
    Type:  DownwardAPI (a volume populated by information about the pod)
    Items:
      metadata.labels -> labels
QoS Class:       Burstable
Node-Selectors:  disktype=ssd
                 kubernetes.io/os=linux
Tolerations:     op=Exists
                 dedicated=web:NoSchedule
Events:
  Type    Reason   Age    From     Message
  ----    ------   ----   ----     -------
  Normal  Started  3m20s  kubelet  Started container web
"""


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        pytest.param(verified, VERIFIED, id="reference 5.7: verified 1.32 output, byte for byte"),
        pytest.param(pending_exact, PENDING_EXACT, id="reference 5.7: pending, unscheduled"),
        pytest.param(unscheduled, UNSCHEDULED, id="Pending with FailedScheduling x3"),
        pytest.param(creating, CREATING, id="ContainerCreating"),
        pytest.param(ready, READY, id="Running and ready"),
        pytest.param(crashloop, CRASHLOOP, id="CrashLoopBackOff, Last State Error"),
        pytest.param(oomkilled, OOMKILLED, id="OOMKilled, restartPolicy Never"),
        pytest.param(init_running, INIT_RUNNING, id="init containers, Init:1/2"),
        pytest.param(multi, MULTI, id="two containers, env, mounts, probes, volumes"),
    ],
)
def test_golden(build: Callable[[], Case], expected: str) -> None:
    pod, events = build()
    assert describe_pod(pod, events, NOW) == expected


@pytest.mark.parametrize(
    ("build", "excerpts"),
    [
        pytest.param(
            not_ready,
            [
                "    Ready:          False\n",
                "  Ready                       False \n  ContainersReady             False \n",
                "  Warning  Unhealthy  5s (x3 over 15s)  kubelet            Readiness probe failed: HTTP probe failed with statuscode: 503\n",
            ],
            id="Running, not ready: Unhealthy x3 over 15s",
        ),
        pytest.param(
            completed,
            [
                "Status:       Succeeded\n",
                "    State:          Terminated\n      Reason:       Completed\n      Message:      all done\n"
                "      Exit Code:    0\n      Started:      Wed, 01 May 2024 11:59:30 +0000\n"
                "      Finished:     Wed, 01 May 2024 11:59:31 +0000\n    Ready:          False\n",
                "Tolerations:                  <none>\nEvents:                       <none>\n",
            ],
            id="Completed",
        ),
        pytest.param(
            terminating,
            [
                "Name:                      web\n",
                "Status:                    Terminating (lasts <invalid>)\nTermination Grace Period:  30s\n",
                "  Normal  Killing    5s     kubelet            Stopping container app\n",
            ],
            id="Terminating within its grace period",
        ),
        pytest.param(
            overdue,
            ["Status:                    Terminating (lasts 12s)\nTermination Grace Period:  1s\n"],
            id="Terminating past its deadline",
        ),
    ],
)
def test_excerpts(build: Callable[[], Case], excerpts: list[str]) -> None:
    pod, events = build()
    text = describe_pod(pod, events, NOW)
    for excerpt in excerpts:
        assert excerpt in text


def test_events_off_and_separator() -> None:
    """`--show-events=false` drops the section; `describe pods` puts two empty lines between."""
    first, second = pending_exact()[0], completed()[0]
    alone = describe_pod(first, None, NOW)
    assert alone.endswith("Tolerations:     <none>\n") and "Events" not in alone
    both = describe_pods([(first, None), (second, [])], NOW)
    assert both == alone + "\n\n" + describe_pod(second, [], NOW)


def test_times_in_the_given_zone() -> None:
    """kubectl prints times in the client's zone (TZ=Asia/Seoul gives +0900)."""
    pod, _ = verified()
    seoul = describe_pod(pod, [], NOW, tz=timezone(timedelta(hours=9)))
    assert "Start Time:       Mon, 04 Mar 2024 14:06:07 +0900\n" in seoul
    assert "      Finished:     Mon, 04 Mar 2024 14:07:07 +0900\n" in seoul


def test_terminal_escapes() -> None:
    """ESC and CR in user text are shown, not obeyed (printers.WriteEscaped)."""
    pod, _ = pending_exact()
    text = describe_pod(pod, [event("Warning", "Odd", "\x1b[31mred\rx\r", 1, pod="pend")], NOW)
    assert "  Warning  Odd     1s    kubelet  ^[[31mred\\rx\n" in text  # trimmed, then escaped


@pytest.mark.parametrize(
    ("probe", "text"),
    [
        ({"httpGet": {"port": 8080}}, "http-get //:8080"),
        (
            {"httpGet": {"path": "/a b?c", "port": 80, "scheme": "HTTP"}},
            "http-get http://:80/a%20b%3Fc",
        ),
        (
            {"httpGet": {"host": "::1", "port": 80, "scheme": "HTTP", "path": "/"}},
            "http-get http://[::1]:80/",
        ),
        ({"exec": {"command": []}}, "exec []"),
        ({"tcpSocket": {"port": 22}}, "tcp-socket :22"),
        ({"grpc": {"port": 9000, "service": "health"}}, "grpc <pod>:9000 health"),
        ({}, "unknown"),
    ],
)
def test_probe_handlers(probe: JSON, text: str) -> None:
    assert probe_text(probe) == f"{text} delay=0s timeout=0s period=0s #success=0 #failure=0"


def test_event_intervals() -> None:
    """Age: series first, then count > 1, else the first time; eventTime beats firstTimestamp."""
    series = {**event("Normal", "A", "m", 30), "series": {"count": 5, "lastObservedTime": ago(2)}}
    micro = {**event("Normal", "B", "m", 30), "eventTime": ago(90)}
    timeless = {**event("Normal", "C", "m", 30), "firstTimestamp": None, "lastTimestamp": None}
    rows = event_rows([series, micro, timeless], NOW)
    assert rows == [
        "  Normal\tC\t<unknown>\tkubelet\tm",
        "  Normal\tA\t2s (x5 over 30s)\tkubelet\tm",
        "  Normal\tB\t90s\tkubelet\tm",
    ]


def test_annotation_edges() -> None:
    """141 bytes (key + ': ' + value) moves the value below its key; 140 does not."""
    assert annotation_lines({"k": "v" * 137}) == [f"Annotations:\tk: {'v' * 137}"]
    assert annotation_lines({"k": "v" * 138}) == ["Annotations:\tk:", f"\t  {'v' * 138}"]
    assert annotation_lines({"kubectl.kubernetes.io/last-applied-configuration": "{}"}) == [
        "Annotations:\t<none>"
    ]


@pytest.mark.parametrize(
    ("resources", "qos"),
    [
        ([{}], "BestEffort"),
        (
            [{"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}],
            "Guaranteed",
        ),
        (
            [
                {
                    "limits": {"cpu": "1", "memory": "1Gi"},
                    "requests": {"cpu": "1", "memory": "1Gi"},
                },
                {},
            ],
            "Burstable",
        ),
        ([{"requests": {"cpu": "0"}}], "BestEffort"),
        ([{"requests": {"memory": "1Mi"}}], "Burstable"),
    ],
)
def test_qos_computed_when_the_status_has_none(resources: list[JSON], qos: str) -> None:
    containers = [{"name": f"c{i}", "resources": r} for i, r in enumerate(resources)]
    assert qos_class({"spec": {"containers": containers}, "status": {}}) == qos
