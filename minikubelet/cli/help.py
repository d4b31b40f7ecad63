"""kubectl's help layout for every command: description, Examples:, Options:, Usage:.

The texts are kubectl 1.32's own one-line descriptions and flag texts, kept here so that only
`--help` imports them (kubectl's texts as data: past the 400-line aim, under the 600 cap).
"""

from __future__ import annotations

import argparse

__all__ = ["kubectl_help"]


_GROUPS = (
    ("Basic Commands (Beginner)", ("create", "expose")),
    ("Basic Commands (Intermediate)", ("get", "delete")),
    (
        "Troubleshooting and Debugging Commands",
        (
            "describe",
            "logs",
            "attach",
            "exec",
            "port-forward",
            "cp",
            "debug",
            "probes",
            "probe",
            "timeline",
            "dashboard",
        ),  # fmt: skip
    ),
    ("Advanced Commands", ("apply", "wait")),
    ("Settings Commands", ("label",)),
    ("Node Commands", ("daemon", "reset", "kubeconfig")),
)
_SELECTOR = (
    "Selector (label query) to filter on, supports '=', '==', and '!='.(e.g. -l "
    "key1=value1,key2=value2). Matching objects must satisfy all of the specified label "
    "constraints."
)
_DRY_RUN = (
    'Must be "none", "server", or "client". If client strategy, only print the object that '
    "would be sent, without sending it. If server strategy, submit server-side request without "
    "persisting the resource."
)
_ALL_NAMESPACES = (
    "If present, list the requested object(s) across all namespaces. Namespace in current "
    "context is ignored even if specified with --namespace."
)
_OUTPUT = "Output format. One of: (json, yaml, name)."
# kubectl 1.32's flag texts, by long flag; "<command> <flag>" where a command's text differs.
_FLAGS = {
    "--namespace": "If present, the namespace scope for this CLI request",
    "--filename": "Filename, directory, or URL to files to use to create the resource",
    "apply --filename": "The files that contain the configurations to apply.",
    "delete --filename": "Filename, directory, or URL to files containing the resource to delete.",
    "--dry-run": _DRY_RUN,
    "--output": _OUTPUT,
    "timeline --output": "Output format: the terminal chart (default) or svg, a standalone SVG.",
    "timeline --since": "Only draw the last part of the history, a duration like 30s or 2m.",
    "probes --output": "Output format: the table (default), wide (adds DETAIL) or json.",
    "dashboard --no-open": "Only print the URL, do not open a browser.",
    "probe --output": "Output format: lines to read (default) or json, the raw outcome.",
    "probe --liveness": "Run the container's liveness probe.",
    "probe --readiness": "Run the container's readiness probe.",
    "probe --startup": "Run the container's startup probe.",
    "get --output": (
        "Output format. One of: (json, yaml, name, jsonpath, custom-columns, wide). See custom "
        "columns [https://kubernetes.io/docs/reference/kubectl/#custom-columns] and jsonpath "
        "template [https://kubernetes.io/docs/reference/kubectl/jsonpath/]."
    ),
    "--all-namespaces": _ALL_NAMESPACES,
    "--selector": _SELECTOR,
    "--field-selector": (
        "Selector (field query) to filter on, supports '=', '==', and '!='.(e.g. "
        "--field-selector key1=value1,key2=value2). The server only supports a limited number "
        "of field queries per type."
    ),
    "--show-events": "If true, display events related to the described object.",
    "--show-labels": (
        "When printing, show all labels as the last column (default hide labels column)"
    ),
    "--label-columns": (
        "Accepts a comma separated list of labels that are going to be presented as columns. "
        "Names are case-sensitive. You can also use multiple flag options like -L label1 -L "
        "label2..."
    ),
    "--watch": "After listing/getting the requested object, watch for changes.",
    "--no-headers": (
        "When using the default or custom-column output format, don't print headers (default "
        "print headers)."
    ),
    "--ignore-not-found": "If the requested object does not exist the command will return exit "
    "code 0.",
    "delete --ignore-not-found": 'Treat "resource not found" as a successful delete. Defaults '
    'to "true" when --all is specified.',
    "--container": "Print the logs of this container",
    "--follow": "Specify if the logs should be streamed.",
    "--previous": "If true, print the logs for the previous instance of the container in a pod "
    "if it exists.",
    "--tail": "Lines of recent log file to display. Defaults to -1 with no selector, showing all "
    "log lines otherwise 10, if a selector is provided.",
    "--timestamps": "Include timestamps on each line in the log output",
    "--since": "Only return logs newer than a relative duration like 5s, 2m, or 3h. Defaults to "
    "all logs. Only one of since-time / since may be used.",
    "--since-time": "Only return logs after a specific date (RFC3339). Defaults to all logs. "
    "Only one of since-time / since may be used.",
    "--limit-bytes": "Maximum bytes of logs to return. Defaults to no limit.",
    "--all-containers": "Get all containers' logs in the pod(s).",
    "--prefix": "Prefix each log line with the log source (pod name and container name)",
    "--ignore-errors": "If watching / following pod logs, allow for any errors that occur to be "
    "non-fatal",
    "--overwrite": "If true, allow labels to be overwritten, otherwise reject label updates "
    "that overwrite existing labels.",
    "--for": "The condition to wait on: [delete|condition=condition-name[=condition-value]]. "
    "The default condition-value is true. Condition values are compared after Unicode simple "
    "case folding, which is a more general form of case-insensitivity.",
    "--timeout": "The length of time to wait before giving up. Zero means check once and don't "
    "wait, negative means wait for a week.",
    "--all": "Delete all resources, in the namespace of the specified resource types.",
    "--grace-period": "Period of time in seconds given to the resource to terminate gracefully. "
    "Ignored if negative. Set to 1 for immediate shutdown. Can only be set to 0 when --force "
    "is true (force deletion).",
    "--force": "If true, immediately remove resources from API and bypass graceful deletion. "
    "Note that immediate deletion of some resources may result in inconsistency or data loss "
    "and requires confirmation.",
    "--now": "If true, resources are signaled for immediate shutdown (same as --grace-period=1).",
    "--wait": "If true, wait for resources to be gone before returning. This waits for finalizers.",
    "--client": "If true, shows client version only (no server required).",
    "--node-name": "The node's name (default: the hostname). Only with run.",
    "reset --all": "Every node instance found on the engine (by its instance label) and every "
    "agent of this machine, not only this node.",
    "reset --force": "Do not ask first.",
    "reset --images": "Also the images the project built (the pause, base and example images).",
    "attach --container": "Container name. If omitted, use the "
    "kubectl.kubernetes.io/default-container annotation for selecting the container to be "
    "attached or the first container in the pod will be chosen",
    "cp --container": "Container name. If omitted, use the "
    "kubectl.kubernetes.io/default-container annotation for selecting the container to be "
    "attached or the first container in the pod will be chosen",
    "--no-preserve": "The copied file/directory's ownership and permissions will not be "
    "preserved in the container",
    "debug --container": "Container name to use for debug container.",
    "debug --stdin": "Keep stdin open on the container(s) in the pod, even if nothing is attached.",
    "debug --tty": "Allocate a TTY for the debugging container.",
    "debug --quiet": "If true, suppress informational messages.",
    "--image": "Container image to use for debug container.",
    "--image-pull-policy": "The image pull policy for the container. If left empty, this "
    "value will not be specified by the client and defaulted by the server.",
    "--target": "When using an ephemeral container, target processes in this container name.",
    "--attach": "If true, wait for the container to start running, and then attach as if "
    "'minikubelet attach ...' were called.  Default false, unless '-i/--stdin' is set, in "
    "which case the default is true.",
    "--arguments-only": "If specified, everything after -- will be passed to the new container "
    "as Args instead of Command.",
    "--env": "Environment variables to set in the container.",
    "--profile": 'Options are "legacy", "general", "baseline", "netadmin", "restricted" or '
    '"sysadmin".',
    "--stdin": "Pass stdin to the container",
    "--tty": "Stdin is a TTY",
    "--quiet": "Only print output from the remote session",
    "--pod-running-timeout": "The length of time (like 5s, 2m, or 3h, higher than zero) to wait "
    "until at least one pod is running",
}
# command: (description, examples, usage)
_HELP: dict[str, tuple[str, str, str]] = {
    "": (
        "minikubelet makes one machine a Kubernetes node, with kubectl's commands.\n\n"
        " Pods run on the local Docker engine with the kubelet's semantics. The node agent "
        "starts on first use; its state lives under $MINIKUBELET_HOME.",
        "",
        "minikubelet [flags] [options]",
    ),
    "apply": (
        "Apply a configuration to a resource by file name or stdin. The resource name must be "
        "specified. This resource will be created if it doesn't exist yet.\n\n"
        " JSON and YAML formats are accepted.",
        "  # Apply the configuration in pod.json to a pod\n"
        "  minikubelet apply -f ./pod.json\n\n"
        "  # Apply the JSON passed into stdin to a pod\n"
        "  cat pod.json | minikubelet apply -f -\n\n"
        "  # Apply every manifest in a directory, in lexical order\n"
        "  minikubelet apply -f manifests/\n",
        "minikubelet apply -f FILENAME [options]",
    ),
    "create": (
        "Create a resource from a file or from stdin.\n\n JSON and YAML formats are accepted.",
        "  # Create a pod using the data in pod.json\n"
        "  minikubelet create -f ./pod.json\n\n"
        "  # Create a pod based on the JSON passed into stdin\n"
        "  cat pod.json | minikubelet create -f -\n",
        "minikubelet create -f FILENAME [options]",
    ),
    "get": (
        "Display one or many resources.\n\n"
        " Prints a table of the most important information about the specified resources. You "
        "can filter the list using a label selector and the --selector flag. If the desired "
        "resource type is namespaced you will only see results in the current namespace if you "
        "don't specify any namespace.\n\n"
        " The resource types are pods (po), events (ev) and nodes (no).",
        "  # List all pods in ps output format\n"
        "  minikubelet get pods\n\n"
        "  # List all pods in ps output format with more information (such as node name)\n"
        "  minikubelet get pods -o wide\n\n"
        "  # List a single pod in JSON output format\n"
        "  minikubelet get -o json pod web-pod-13je7\n\n"
        "  # Return only the phase value of the specified pod\n"
        "  minikubelet get pod/web-pod-13je7 -o jsonpath='{.status.phase}'\n\n"
        "  # List resource information in custom columns\n"
        "  minikubelet get pod test-pod -o "
        "custom-columns=CONTAINER:.spec.containers[0].name,IMAGE:.spec.containers[0].image\n\n"
        "  # List all pods existing in all namespaces\n"
        "  minikubelet get pods --all-namespaces\n",
        "minikubelet get [(-o|--output=)json|yaml|name|jsonpath|custom-columns|wide] "
        "(TYPE [NAME | -l label] | TYPE/NAME ...) [flags] [options]",
    ),
    "describe": (
        "Show details of a specific resource or group of resources.\n\n"
        " Print a detailed description of the selected resources, including related resources "
        "such as events or controllers. You may select a single object by name, all objects of "
        "that type, provide a name prefix, or label selector.",
        "  # Describe a pod\n"
        "  minikubelet describe pods/nginx\n\n"
        "  # Describe all pods\n"
        "  minikubelet describe pods\n\n"
        "  # Describe pods by label name=myLabel\n"
        "  minikubelet describe pods -l name=myLabel\n\n"
        "  # Describe every pod whose name starts with 'frontend'\n"
        "  minikubelet describe pods frontend\n",
        "minikubelet describe (TYPE [NAME_PREFIX | -l label] | TYPE/NAME) [options]",
    ),
    "probes": (
        "List every probe attempt the node ran for a pod: TIME since the container started,\n"
        "CONTAINER (name#restarts), PROBE, RESULT, COUNT (failure 2 of 3), LATENCY and the\n"
        "handler's MESSAGE; -o wide adds DETAIL, what the handler saw.",
        "  # The last 20 probes of webapl\n"
        "  minikubelet probes webapl --tail 20\n\n"
        "  # Follow them as they run\n"
        "  minikubelet probes webapl -w\n",
        "minikubelet probes POD [-c CONTAINER] [--tail N] [-w] [-o json|wide] [options]",
    ),
    "probe": (
        "Run one of a container's probes once, now, and print what it returned: the result, the\n"
        "kubelet's message and what the handler saw (exit code and output, HTTP status, headers'\n"
        "size and body, the error). Nobody counts it: the probe's worker, its thresholds, the\n"
        "events and the pod stay as they were.",
        "  # Is webapl's liveness endpoint answering right now?\n"
        "  minikubelet probe webapl --liveness\n\n"
        "  # The readiness probe of one container, as JSON\n"
        "  minikubelet probe web -c app --readiness -o json\n",
        "minikubelet probe POD [-c CONTAINER] --liveness|--readiness|--startup [-o json] [options]",
    ),
    "dashboard": (
        "Print the URL of the node's live view, served by the node agent on 127.0.0.1 with a\n"
        "token of its own, and open it when there is a desktop: the pods with kubectl's\n"
        "columns, each pod's probes drawn as they run, why each restart and Ready change\n"
        "happened, and its events, all updated as they happen.",
        "  # Watch the node think\n  minikubelet dashboard\n",
        "minikubelet dashboard [--no-open] [options]",
    ),
    "timeline": (
        "Draw a pod's probes, readiness changes and restarts on one time axis, in seconds since\n"
        "the pod started: a row per container and probe kind, a row for Ready, and markers\n"
        "where a container was killed and restarted.",
        "  # The whole story of webapl so far\n"
        "  minikubelet timeline webapl\n\n"
        "  # Redraw it live\n"
        "  minikubelet timeline webapl -w\n\n"
        "  # The same picture as an SVG file\n"
        "  minikubelet timeline webapl -o svg > webapl.svg\n",
        "minikubelet timeline POD [-w] [--since DURATION] [-o svg] [options]",
    ),
    "kubeconfig": (
        "Print a kubeconfig for the node agent's HTTPS listener (start it with\n"
        "`minikubelet daemon start --listen 127.0.0.1:PORT`), for kubectl and client libraries.",
        "  minikubelet daemon start --listen 127.0.0.1:6443\n"
        "  minikubelet kubeconfig > kc\n"
        "  KUBECONFIG=kc kubectl get pods\n",
        "minikubelet kubeconfig [options]",
    ),
    "attach": (
        "Attach to a process that is already running inside an existing container.",
        "  # Get output from running pod mypod; use the 'kubectl.kubernetes.io/default-container' "
        "annotation\n  # for selecting the container to be attached or the first container in "
        "the pod will be chosen\n  minikubelet attach mypod\n\n"
        "  # Get output from ruby-container from pod mypod\n"
        "  minikubelet attach mypod -c ruby-container\n\n"
        "  # Switch to raw terminal mode; sends stdin to 'bash' in ruby-container from pod mypod\n"
        "  # and sends stdout/stderr from 'bash' back to the client\n"
        "  minikubelet attach mypod -c ruby-container -i -t\n",
        "minikubelet attach (POD | TYPE/NAME) -c CONTAINER [options]",
    ),
    "cp": (
        "Copy files and directories to and from containers.",
        "  # !!!Important Note!!!\n"
        "  # Requires that the 'tar' binary is present in your container\n"
        "  # image.  If 'tar' is not present, 'minikubelet cp' will fail.\n\n"
        "  # Copy /tmp/foo_dir local directory to /tmp/bar_dir in a remote pod in the default "
        "namespace\n  minikubelet cp /tmp/foo_dir <some-pod>:/tmp/bar_dir\n\n"
        "  # Copy /tmp/foo local file to /tmp/bar in a remote pod in a specific container\n"
        "  minikubelet cp /tmp/foo <some-pod>:/tmp/bar -c <specific-container>\n\n"
        "  # Copy /tmp/foo local file to /tmp/bar in a remote pod in namespace <some-namespace>\n"
        "  minikubelet cp /tmp/foo <some-namespace>/<some-pod>:/tmp/bar\n\n"
        "  # Copy /tmp/foo from a remote pod to /tmp/bar locally\n"
        "  minikubelet cp <some-namespace>/<some-pod>:/tmp/foo /tmp/bar\n",
        "minikubelet cp <file-spec-src> <file-spec-dest> [options]",
    ),
    "debug": (
        "Debug cluster resources using interactive debugging containers.\n\n"
        " 'debug' provides automation for common debugging tasks for cluster objects "
        "identified by resource and name. minikubelet adds an ephemeral container to a "
        "running pod (the style kubectl uses for a pod without --copy-to).",
        "  # Create an interactive debugging session in pod mypod and immediately attach to it.\n"
        "  minikubelet debug mypod -it --image=busybox\n\n"
        "  # Create a debug container named debugger using a custom automated debugging image.\n"
        "  minikubelet debug --image=myproj/debug-tools -c debugger mypod\n\n"
        "  # Create an interactive debugging session targeting the processes of container app\n"
        "  minikubelet debug mypod -it --image=busybox --target=app\n",
        "minikubelet debug (POD | TYPE[[.VERSION].GROUP]/NAME) [ -- COMMAND [args...] ] [options]",
    ),
    "logs": (
        "Print the logs for a container in a pod or specified resource. If the pod has only one "
        "container, the container name is optional.",
        "  # Return snapshot logs from pod nginx with only one container\n"
        "  minikubelet logs nginx\n\n"
        "  # Return snapshot logs from pod nginx, prefixing each line with the source pod and "
        "container name\n"
        "  minikubelet logs nginx --prefix\n\n"
        "  # Return snapshot logs from pod nginx with multi containers\n"
        "  minikubelet logs nginx --all-containers\n\n"
        "  # Return snapshot of previous terminated ruby container logs from pod web-1\n"
        "  minikubelet logs -p -c ruby web-1\n\n"
        "  # Begin streaming the logs of the ruby container in pod web-1\n"
        "  minikubelet logs -f -c ruby web-1\n\n"
        "  # Display only the most recent 20 lines of output in pod nginx\n"
        "  minikubelet logs --tail=20 nginx\n\n"
        "  # Show all logs from pod nginx written in the last hour\n"
        "  minikubelet logs --since=1h nginx\n",
        "minikubelet logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER] [options]",
    ),
    "delete": (
        "Delete resources by file names, stdin, resources and names, or by resources and label "
        "selector.\n\n"
        " JSON and YAML formats are accepted. Only one type of argument may be specified: file "
        "names, resources and names, or resources and label selector.",
        "  # Delete a pod using the type and name specified in pod.json\n"
        "  minikubelet delete -f ./pod.json\n\n"
        "  # Delete a pod based on the type and name in the JSON passed into stdin\n"
        "  cat pod.json | minikubelet delete -f -\n\n"
        "  # Delete a pod with minimal delay\n"
        "  minikubelet delete pod foo --now\n\n"
        "  # Force delete a pod\n"
        "  minikubelet delete pod foo --force\n\n"
        "  # Delete all pods\n"
        "  minikubelet delete pods --all\n",
        "minikubelet delete ([-f FILENAME] | TYPE [(NAME | --all)]) [options]",
    ),
    "wait": (
        "Experimental: Wait for a specific condition on one or many resources.\n\n"
        " The command takes multiple resources and waits until the specified condition is seen "
        "in the Status field of every given resource.",
        '  # Wait for the pod "busybox1" to contain the status condition of type "Ready"\n'
        "  minikubelet wait --for=condition=Ready pod/busybox1\n\n"
        "  # The default value of status condition is true; you can wait for other targets "
        "after an equal delimiter\n"
        "  minikubelet wait --for=condition=Ready=false pod/busybox1\n\n"
        '  # Wait for the pod "busybox1" to be deleted, with a timeout of 60s, after having '
        'issued the "delete" command\n'
        "  minikubelet delete pod/busybox1\n"
        "  minikubelet wait --for=delete pod/busybox1 --timeout=60s\n",
        "minikubelet wait (pod/NAME ...) [--for=delete|--for condition=available] [options]",
    ),
    "label": (
        "Update the labels on a resource.\n\n"
        "  *  A label key and value must begin with a letter or number, and may contain "
        "letters, numbers, hyphens, dots, and underscores, up to 63 characters each.\n"
        "  *  minikubelet labels its node; a pod's labels come from its manifest.",
        "  # Update node 'mynode' with the label 'disktype' and the value 'ssd'\n"
        "  minikubelet label node mynode disktype=ssd\n\n"
        "  # Update node 'mynode' with the label 'disktype' and the value 'hdd', overwriting "
        "any existing value\n"
        "  minikubelet label --overwrite node mynode disktype=hdd\n\n"
        "  # Update node 'mynode' by removing a label named 'disktype' if it exists\n"
        "  # Does not require the --overwrite flag\n"
        "  minikubelet label node mynode disktype-\n",
        "minikubelet label [--overwrite] node NAME KEY_1=VAL_1 ... KEY_N=VAL_N [options]",
    ),
    "expose": (
        "Expose a pod as a new Kubernetes service.\n\n"
        " Looks up a pod by name and uses its labels as the selector of a new service on the "
        "specified port. The service gets a cluster IP, reachable from the host and every pod; "
        "with --type NodePort also 127.0.0.1:NODEPORT.",
        "  # Create a service for a pod valid-pod, which serves on port 444 with the name "
        '"frontend"\n'
        "  minikubelet expose pod valid-pod --port=444 --name=frontend\n\n"
        "  # Create a NodePort service for webapl on port 80, to its port 3000\n"
        "  minikubelet expose pod webapl --port=80 --target-port=3000 --type=NodePort\n",
        "minikubelet expose pod NAME [--port=port] [--protocol=TCP|UDP|SCTP] "
        "[--target-port=number-or-name] [--name=name] [--type=type] [options]",
    ),
    "version": (
        "Print the client and server version information.\n\n"
        " The server version is the running node agent's; with no agent running only the "
        "client version is printed.",
        "  # Print the client and server versions\n"
        "  minikubelet version\n\n"
        "  # Print the client version only (no agent required)\n"
        "  minikubelet version --client\n",
        "minikubelet version [flags] [options]",
    ),
    "daemon": (
        "Run, start, stop or check the node agent.\n\n"
        " Any command that needs the agent starts it when none runs. run stays in the "
        "foreground; start detaches it with its log in the state dir; stop sends SIGTERM and "
        "waits. Containers keep running across agent restarts, as they do across a kubelet's.",
        "  # Start the agent in the background, then check it\n"
        "  minikubelet daemon start\n"
        "  minikubelet daemon status\n\n"
        "  # Run the agent in the foreground with a node name of your choice\n"
        "  minikubelet daemon run --node-name mynode\n\n"
        "  # Stop the agent (its containers keep running)\n"
        "  minikubelet daemon stop\n",
        "minikubelet daemon (run|start|stop|status) [--node-name NAME] [options]",
    ),
    "reset": (
        "Take the node down and remove everything it made.\n\n"
        " Stops the agent, removes its containers and network from the engine and its state "
        "directory. --all does it for every node instance found on the engine (by its instance "
        "label, also when its state directory is gone) and every agent of this machine; "
        "--images also removes the images minikubelet built. Asks first unless --force.",
        "  # Remove this node (asks first)\n"
        "  minikubelet reset\n\n"
        "  # Remove every minikubelet node on this engine, and the built images, without asking\n"
        "  minikubelet reset --all --images --force\n",
        "minikubelet reset [--all] [--images] [--force] [options]",
    ),
}


def _flag_default(action: argparse.Action) -> str:
    if isinstance(action, argparse._StoreTrueAction):
        return "false"
    if isinstance(action, argparse._AppendAction):
        return "[]"
    value = action.default
    if value is None or value is argparse.SUPPRESS:
        return "''"
    if isinstance(value, str) and value not in ("true", "false"):
        return f"'{value}'"
    return str(value)


def kubectl_help(parser: argparse.ArgumentParser) -> str:
    """`parser`'s help as kubectl lays it out: description, commands or examples, options
    (long name order, `--flag=default:` then the text on a tab-indented line), usage."""
    command = parser.prog.removeprefix("minikubelet").strip()
    description, examples, usage = _HELP.get(command, (parser.description or "", "", ""))
    out = [description.rstrip() + "\n"]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            listed = set()
            for title, names in _GROUPS:
                here = [n for n in names if n in action.choices]
                listed.update(here)
                if here:
                    out.append(f"\n{title}:\n" + "".join(f"  {n:<16}{helps[n]}\n" for n in here))
            rest = [n for n in action.choices if n not in listed]
            if rest:
                lines = "".join(f"  {n:<16}{helps[n]}\n" for n in rest)
                out.append("\nOther Commands:\n" + lines)
    if examples:
        out.append("\nExamples:\n" + examples)
    options = [
        a
        for a in parser._actions
        if a.option_strings
        and not isinstance(a, argparse._HelpAction)
        and (command == "" or a.dest != "namespace")
    ]
    if options:
        out.append("\nOptions:\n")
        for action in sorted(options, key=lambda a: a.option_strings[-1].lstrip("-")):
            long = action.option_strings[-1]
            short = f"{action.option_strings[0]}, " if len(action.option_strings) > 1 else ""
            text = _FLAGS.get(f"{command} {long}") or _FLAGS.get(long) or action.help or ""
            out.append(f"    {short}{long}={_flag_default(action)}:\n\t{text}\n\n")
    out.append(
        ("" if options else "\n")
        + f"Usage:\n  {usage or parser.format_usage().removeprefix('usage: ').strip()}\n\n"
    )
    if command:
        out.append(
            'Use "minikubelet --help" for a list of global command-line options (applies to all '
            "commands).\n"
        )
    else:
        out.append('Use "minikubelet <command> --help" for more information about a command.\n')
    return "".join(out)
