"""The kubelet's prober: one worker per (pod, container, probe kind), handlers, results."""
