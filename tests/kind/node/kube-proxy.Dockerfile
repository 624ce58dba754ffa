# kube-proxy as kubeadm runs it (registry.k8s.io/kube-proxy:<version>): the binary built from the
# Go module proxy on a Debian rootfs with the iptables, nftables and conntrack it calls.
ARG ROOTFS
FROM ${ROOTFS}
COPY kube-proxy /usr/local/bin/kube-proxy
