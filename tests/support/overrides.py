"""A log tailer written the textbook way (tests/corpus/k8s-docs-logging-streaming-sidecar.yaml's, with
`tail -F` as its command), plus what people add by hand: resources, a newer image tag and a read-write
mount. Imported, it is the log-tailer pattern (the tag is its image parameter) with two fields set by
hand: `resources` and `volumeMounts` (the pattern mounts the logs read-only)."""

TAILER_SET_BY_HAND = """\
apiVersion: v1
kind: Pod
metadata:
  name: counter
spec:
  containers:
  - name: count
    image: busybox:1.28
    args: [/bin/sh, -c, 'i=0; while true; do echo "$i: $(date)" >> /var/log/1.log; i=$((i+1)); sleep 1; done']
    volumeMounts:
    - name: varlog
      mountPath: /var/log
  - name: count-log-1
    image: busybox:1.37
    command: [tail, -n+1, -F, /var/log/1.log]
    resources:
      limits:
        cpu: 100m
        memory: 64Mi
    volumeMounts:
    - name: varlog
      mountPath: /var/log
  volumes:
  - name: varlog
    emptyDir: {}
"""
