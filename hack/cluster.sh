#!/usr/bin/env bash
# cluster.sh up | down | status | load TAR... | can-run | build
#
# A real single-node Kubernetes cluster on this machine, for what envtest cannot show: pods that
# run, Services, DNS, volumes, a Helm install. No Docker engine and no registry are needed.
#
#   up        build what is missing (first time: ~7 min for the Kubernetes node binaries,
#             ~2 min for CoreDNS, on idle cores; cached afterwards), then start a fresh
#             cluster (~16 s); prints `export KUBECONFIG=...` for https://127.0.0.1:16443.
#   down      stop everything; leaves no process, mount, namespace, cgroup or iptables rule.
#   status    each component with its PID, and whether the node is Ready.
#   load TAR  import image tarballs (go run ./hack/image ...) into the node's containerd, whose
#             image store survives down/up. There is no registry: pods must use
#             imagePullPolicy IfNotPresent or Never (and a tag other than :latest).
#   can-run   exit 0 when this machine can run the cluster (Linux, root).
#   build     only build (or find cached) the node binaries and CoreDNS; make tools runs it.
#
# How it is contained: the node is a network + mount + UTS namespace held by one process. All
# node processes (containerd, kubelet, kube-proxy, etcd and the control plane) run inside it, so
# pods, the cni0 bridge, kube-proxy's iptables rules and the node's sysctls never touch the host;
# /var and /run are bind mounts of ${CLUSTER_DIR}/node/{var,run} there. Pods' cgroups live under
# /ordersaga-cluster in each hierarchy. From the host, a socat bridge carries 127.0.0.1:16443 to
# the API server.
set -euo pipefail
HACK_DIR=$(cd "$(dirname "$0")" && pwd)
. "${HACK_DIR}/lib.sh"
REPO_DIR=$(dirname "${HACK_DIR}")
SELF="${HACK_DIR}/cluster.sh"
# Debian puts runc, iptables and conntrack in /usr/sbin, which a user's PATH may lack.
export PATH="${PATH}:/usr/sbin:/sbin"

K8S_VERSION=1.37.2
COREDNS_VERSION=1.15.0
K8S_BIN="${TOOLS_DIR}/cluster/k8s-${K8S_VERSION}"
COREDNS_BIN="${TOOLS_DIR}/cluster/coredns-${COREDNS_VERSION}"
# kube-apiserver, etcd and kubectl are envtest's (hack/envtest.sh), the same versions.
NODE_COMPONENTS="kube-controller-manager kube-scheduler kubelet kube-proxy"

CLUSTER_DIR=$(realpath -m "${CLUSTER_DIR:-${REPO_DIR}/.cluster}")
export CLUSTER_DIR
PKI="${CLUSTER_DIR}/pki"
LOGS="${CLUSTER_DIR}/logs"
RUN="${CLUSTER_DIR}/run"
CONFIG="${CLUSTER_DIR}/config"
NODE="${CLUSTER_DIR}/node"
IMAGES="${CLUSTER_DIR}/images"
HOST_KUBECONFIG="${CLUSTER_DIR}/kubeconfig"

# The node's name matches hack/cluster/kube-proxy.yaml; its address, the Pod CIDR (also in
# cni.conflist) and the Service CIDR are private to the node's network namespace.
NODE_NAME=ordersaga-node
NODE_IP=10.250.0.2
POD_CIDR=10.244.0.0/16
SERVICE_CIDR=10.96.0.0/16
CGROUP_ROOT=ordersaga-cluster
API_PORT=16443
# In the order up starts them.
COMPONENTS="node containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy api-bridge-node api-bridge"

die() {
	log "$*"
	exit 1
}

can_run() {
	[ "$(uname -s)" = Linux ] || { echo "the cluster needs Linux (namespaces, cgroups, containerd); this is $(uname -s)" >&2; return 1; }
	[ "$(id -u)" = 0 ] || { echo "the cluster needs root: it runs containerd in network and mount namespaces and cgroups of its own" >&2; return 1; }
}

need_root() {
	[ "$(id -u)" = 0 ] && return 0
	echo "hack/cluster.sh $1 needs root: the cluster runs containerd in network and mount namespaces and cgroups of its own" >&2
	exit 2
}

# lock serializes up, down and load: two of them at once would fight over the same processes.
# Fd 9 is closed for every process they start (spawn), or the cluster would hold the lock forever.
lock() {
	mkdir -p "${CLUSTER_DIR}"
	exec 9>"${CLUSTER_DIR}/lock"
	flock -n 9 || { log "waiting for another hack/cluster.sh in ${CLUSTER_DIR}"; flock 9; }
}

ensure_packages() {
	# "what to look for:package". Paths rather than commands where another file names them.
	local want=(/usr/sbin/runc:runc containerd:containerd ctr:containerd containerd-shim-runc-v2:containerd
		/usr/lib/cni/bridge:containernetworking-plugins /usr/lib/cni/host-local:containernetworking-plugins
		/usr/lib/cni/portmap:containernetworking-plugins /usr/lib/cni/loopback:containernetworking-plugins
		iptables:iptables conntrack:conntrack socat:socat curl:curl openssl:openssl
		unshare:util-linux nsenter:util-linux ip:iproute2)
	local missing=() w
	for w in "${want[@]}"; do
		case "${w%%:*}" in
		/*) [ -e "${w%%:*}" ] && continue ;;
		*) command -v "${w%%:*}" >/dev/null && continue ;;
		esac
		missing+=("${w#*:}")
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
	log "installing Debian packages: ${missing[*]}"
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -q "${missing[@]}" >/dev/null
}

have_k8s_bin() {
	local c out
	for c in ${NODE_COMPONENTS}; do
		out=$("${K8S_BIN}/${c}" --version 2>/dev/null) || return 1
		[ "${out}" = "Kubernetes v${K8S_VERSION}" ] || return 1
	done
}

have_coredns_bin() {
	local out
	out=$("${COREDNS_BIN}/coredns" -version 2>/dev/null) || return 1
	[[ "${out}" == "CoreDNS-${COREDNS_VERSION}"* ]]
}

# ensure_binaries builds the node binaries and CoreDNS once per version, beside the envtest
# assets and with the same Go caches, so that the modules and packages they share with
# kube-apiserver are not fetched or compiled twice. The lock keeps parallel callers from doing so.
ensure_binaries() {
	mkdir -p "${TOOLS_DIR}/cluster"
	exec 8>"${TOOLS_DIR}/cluster/build.lock"
	flock -n 8 || { log "waiting for another build of the cluster binaries"; flock 8; }
	local start
	if ! have_k8s_bin; then
		log "building ${NODE_COMPONENTS} v${K8S_VERSION} into ${K8S_BIN} (with cold Go caches about 7 min on 2 idle cores, 10 when they are busy; warm 25 s)"
		start=$(date +%s)
		local pkgs=() c
		for c in ${NODE_COMPONENTS}; do pkgs+=("k8s.io/kubernetes/cmd/${c}@v${K8S_VERSION}"); done
		go_wrapper_build "${K8S_BIN}" "$(k8s_ldflags "${K8S_VERSION}")" "${pkgs[@]}"
		have_k8s_bin || die "${K8S_BIN} does not report v${K8S_VERSION}"
		log "built the Kubernetes node binaries in $(($(date +%s) - start)) s"
	fi
	if ! have_coredns_bin; then
		log "building CoreDNS v${COREDNS_VERSION} into ${COREDNS_BIN} (with cold Go caches about 2 min on 2 idle cores, 11 when they are busy; warm 20 s)"
		start=$(date +%s)
		go_wrapper_build "${COREDNS_BIN}" "-s -w -X github.com/coredns/coredns/coremain.GitCommit=v${COREDNS_VERSION}" \
			"github.com/coredns/coredns@v${COREDNS_VERSION}"
		have_coredns_bin || die "${COREDNS_BIN} does not report v${COREDNS_VERSION}"
		log "built CoreDNS in $(($(date +%s) - start)) s"
	fi
	exec 8>&-
}

# pid NAME prints the PID of a started component when it is still running.
pid() {
	local p stat
	p=$(cat "${RUN}/$1.pid" 2>/dev/null) || return 1
	[ -n "${p}" ] && { read -r stat <"/proc/${p}/stat"; } 2>/dev/null || return 1
	# A zombie has ended: the started processes' parent exited, and reaping them can take a while.
	stat="${stat##*) }"
	[ "${stat:0:1}" != Z ] || return 1
	echo "${p}"
}

# spawn NAME CMD... runs CMD in the background in a session of its own, so that stop can end it
# together with its children (socat's per-connection forks, nsenter's exec).
spawn() {
	local name=$1
	shift
	setsid "$@" >"${LOGS}/${name}.log" 2>&1 </dev/null 9>&- &
	echo "$!" >"${RUN}/${name}.pid"
}

# in_node CMD... runs CMD in the node's namespaces. nsenter -m starts it in /: paths must be absolute.
in_node() { nsenter -t "$(pid node)" -n -m -u -- "$@"; }

# start NAME CMD... spawns CMD inside the node's namespaces.
start() {
	local name=$1
	shift
	spawn "${name}" nsenter -t "$(pid node)" -n -m -u -- "$@"
}

# stop NAME... ends the components with their process groups: TERM, and KILL after 3 s. Nothing
# a graceful stop would save survives the next up, and the API server, its clients gone, takes
# over 10 s to finish its own graceful shutdown.
stop() {
	local c p i alive
	for c in "$@"; do
		if p=$(pid "${c}"); then kill -TERM -- "-${p}" 2>/dev/null || kill -TERM "${p}" 2>/dev/null || true; fi
	done
	for ((i = 0; i < 15; i++)); do
		alive=""
		for c in "$@"; do
			if pid "${c}" >/dev/null; then alive+=" ${c}"; fi
		done
		[ -n "${alive}" ] || break
		sleep 0.2
	done
	for c in "$@"; do
		if p=$(pid "${c}"); then kill -KILL -- "-${p}" 2>/dev/null || kill -KILL "${p}" 2>/dev/null || true; fi
		rm -f "${RUN}/${c}.pid"
	done
}

# waitfor SECONDS WHAT CMD... polls CMD until it succeeds.
waitfor() {
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 5; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	log "${what} is not ready after ${secs} s; its log: ${LOGS}/${what}.log"
	tail -n 5 "${LOGS}/${what}.log" >&2 2>/dev/null || true
	return 1
}

kc() { nsenter -t "$(pid node)" -n -- "${KUBECTL}" --kubeconfig "${PKI}/admin.kubeconfig" "$@"; }

# render SRC DEST writes a config file from hack/cluster with the state folder's absolute path.
render() { sed "s#@CLUSTER_DIR@#${CLUSTER_DIR}#g" "${HACK_DIR}/cluster/$1" >"$2"; }

cgroup_dirs() {
	local m
	for m in $(findmnt -rn -t cgroup,cgroup2 -o TARGET); do echo "${m}/${CGROUP_ROOT}"; done
}

# make_cgroups creates kubelet's cgroupRoot in every hierarchy; a v1 cpuset cgroup takes no
# process until its cpus and mems are set.
make_cgroups() {
	local d
	for d in $(cgroup_dirs); do
		mkdir -p "${d}"
		if [ -f "${d%/*}/cpuset.cpus" ] && [ -f "${d%/*}/cpuset.mems" ]; then
			cat "${d%/*}/cpuset.cpus" >"${d}/cpuset.cpus"
			cat "${d%/*}/cpuset.mems" >"${d}/cpuset.mems"
		fi
	done
}

# remove_cgroups kills what is left in the pods' cgroups (containers whose shim died before
# them) and removes the cgroups, children first.
remove_cgroups() {
	local d i procs
	for ((i = 0; i < 25; i++)); do
		procs=""
		for d in $(cgroup_dirs); do
			[ -d "${d}" ] || continue
			procs+=" $({ find "${d}" -name cgroup.procs -exec cat {} + 2>/dev/null || true; } | tr '\n' ' ')"
			find "${d}" -depth -type d -exec rmdir {} \; 2>/dev/null || true
		done
		[ -z "${procs// /}" ] && [ -z "$(existing_cgroups)" ] && return 0
		# shellcheck disable=SC2086 # a list of PIDs
		[ -z "${procs// /}" ] || kill -KILL ${procs} 2>/dev/null || true
		sleep 0.2
	done
	log "cgroups left behind: $(existing_cgroups)"
	return 1
}

existing_cgroups() {
	local d
	for d in $(cgroup_dirs); do [ ! -d "${d}" ] || echo "${d}"; done
}

# node_init runs as the process that holds the node's namespaces (started by unshare in up).
node_init() {
	hostname "${NODE_NAME}"
	ip link set lo up
	# The node's "NIC" is one end of a veth pair whose other end stays down (these kernels have no
	# dummy driver): node processes need a default route through a device to reach ClusterIPs
	# (the route lookup comes before kube-proxy's DNAT), and whatever leaves is dropped there.
	ip link add eth0 type veth peer name eth0-peer
	ip addr add "${NODE_IP}/24" dev eth0
	ip link set eth0 up
	ip route add default via 10.250.0.1 dev eth0 onlink
	mkdir -p "${NODE}/run" "${NODE}/var/lib" "${NODE}/var/log" "${NODE}/sysctl"
	ln -sfn /run "${NODE}/var/run"
	# kubelet's /var/lib/kubelet and /var/log/pods, libcni's /var/lib/cni and containerd's
	# /run/netns are hard-coded: they land in the state folder instead of the host's /var and /run.
	mount --bind "${NODE}/run" /run
	mount --bind "${NODE}/var" /var
	# kubelet insists on these kernel tunables, which are global, three of them different here:
	# this mount namespace shows it files with the wanted values (kubelet.yaml: protectKernelDefaults).
	local kv k
	for kv in vm/overcommit_memory=1 kernel/panic=10 kernel/panic_on_oops=1 vm/panic_on_oom=0 \
		kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000; do
		k="${kv%=*}"
		echo "${kv#*=}" >"${NODE}/sysctl/${k//\//_}"
		mount --bind "${NODE}/sysctl/${k//\//_}" "/proc/sys/${k}"
	done
	touch "${RUN}/node.ready"
	exec sleep infinity
}

gen_pki() {
	mkdir -p "${PKI}"
	(
		cd "${PKI}"
		# P-256 keys: ten of them take a fraction of RSA's time, and every component accepts them.
		local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
		openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -days 3650 -subj "/CN=ordersaga-cluster-ca" 2>/dev/null
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out sa.key 2>/dev/null
		openssl pkey -in sa.key -pubout -out sa.pub 2>/dev/null
		# cert NAME CN [O] [SAN]: a client certificate, or a serving one when SAN is given.
		cert() {
			local subj="/CN=$2" usage="extendedKeyUsage=clientAuth"
			[ -z "${3:-}" ] || subj="/O=$3${subj}"
			[ -z "${4:-}" ] || usage=$'extendedKeyUsage=serverAuth\nsubjectAltName='"$4"
			openssl req -new "${ec[@]}" -keyout "$1.key" -subj "${subj}" 2>/dev/null |
				openssl x509 -req -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" -days 3650 -out "$1.crt" \
					-extfile <(printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n%s\n' "${usage}") 2>/dev/null
		}
		cert apiserver kube-apiserver "" "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,DNS:${NODE_NAME},IP:${NODE_IP},IP:10.96.0.1,IP:127.0.0.1"
		cert kubelet-serving "${NODE_NAME}" "" "DNS:${NODE_NAME},DNS:localhost,IP:${NODE_IP},IP:127.0.0.1"
		cert admin kubernetes-admin system:masters
		cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
		cert controller-manager system:kube-controller-manager
		cert scheduler system:kube-scheduler
		cert kubelet "system:node:${NODE_NAME}" system:nodes
		cert kube-proxy system:kube-proxy
		chmod 600 ./*.key
	)
	local c
	for c in admin controller-manager scheduler kubelet kube-proxy; do
		kubeconfig "${PKI}/${c}.kubeconfig" "https://${NODE_IP}:6443" "${c}"
	done
	kubeconfig "${HOST_KUBECONFIG}" "https://127.0.0.1:${API_PORT}" admin
}

# kubeconfig FILE SERVER CERT
kubeconfig() {
	(
		umask 077
		cat >"$1" <<-EOF
			apiVersion: v1
			kind: Config
			clusters:
			- name: ordersaga-cluster
			  cluster:
			    server: $2
			    certificate-authority-data: $(base64 -w0 "${PKI}/ca.crt")
			users:
			- name: $3
			  user:
			    client-certificate-data: $(base64 -w0 "${PKI}/$3.crt")
			    client-key-data: $(base64 -w0 "${PKI}/$3.key")
			contexts:
			- name: ordersaga-cluster
			  context: {cluster: ordersaga-cluster, user: $3}
			current-context: ordersaga-cluster
		EOF
	)
}

# build_images makes the FROM-scratch pause and CoreDNS images with the project's image builder.
# CoreDNS's 70 MB take 2 s to compress: that runs in the background (the caller waits for
# ${COREDNS_JOB}) while the node and the control plane start.
build_images() {
	[ -f "${REPO_DIR}/hack/image/main.go" ] || die "hack/image (the image builder) is missing from ${REPO_DIR}"
	mkdir -p "${IMAGES}" "${CLUSTER_DIR}/bin"
	(cd "${REPO_DIR}" && CGO_ENABLED=0 go build -ldflags "-s -w" -o "${CLUSTER_DIR}/bin/" ./hack/image ./hack/cluster/pause)
	local image="${CLUSTER_DIR}/bin/image"
	"${image}" -ref ordersaga.local/pause:1 -o "${IMAGES}/pause.tar" -entrypoint /pause -user 65535:65535 \
		"${CLUSTER_DIR}/bin/pause:/pause" >/dev/null
	"${image}" -ref "ordersaga.local/coredns:${COREDNS_VERSION}" -o "${IMAGES}/coredns.tar" -entrypoint /coredns \
		"${COREDNS_BIN}/coredns:/coredns" >/dev/null 9>&- &
	COREDNS_JOB=$!
}

# import TAR... feeds each tarball to the node's containerd on stdin: a path under the host's
# /var or /run would be hidden inside the node's mount namespace.
import() {
	local t
	for t in "$@"; do
		in_node ctr -n k8s.io images import - <"${t}" >/dev/null || die "importing ${t} failed"
	done
}

# check_cluster_dir refuses a state folder that up would empty by mistake (the marker file says
# it is one) or that the node could not see.
check_cluster_dir() {
	if [ -n "$(find "${CLUSTER_DIR}" -mindepth 1 -maxdepth 1 ! -name lock -print -quit 2>/dev/null)" ] &&
		[ ! -e "${CLUSTER_DIR}/.ordersaga-cluster" ]; then
		die "${CLUSTER_DIR} is not empty and was not made by hack/cluster.sh; set CLUSTER_DIR to another folder"
	fi
	case "${CLUSTER_DIR}/" in
	/var/* | /run/*) die "CLUSTER_DIR must not be under /var or /run: the node's mount namespace hides those" ;;
	esac
}

# fresh_state empties the state folder except containerd's image store.
fresh_state() {
	find "${CLUSTER_DIR}" -mindepth 1 -maxdepth 1 ! -name containerd ! -name lock ! -name .ordersaga-cluster -exec rm -rf {} +
	mkdir -p "${PKI}" "${LOGS}" "${RUN}" "${CONFIG}/cni" "${NODE}/pv"
	touch "${CLUSTER_DIR}/.ordersaga-cluster"
}

api_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/${API_PORT}") 2>/dev/null; }

running() {
	local c
	for c in ${COMPONENTS}; do pid "${c}" >/dev/null || return 1; done
}

anything_running() {
	local c
	for c in ${COMPONENTS}; do
		if pid "${c}" >/dev/null; then return 0; fi
	done
	[ -n "$(existing_cgroups)" ] || { [ -s "${RUN}/node.ns" ] && [ -n "$(node_processes)" ]; }
}

up_failed() {
	[ "$1" = 0 ] || log "up failed; logs in ${LOGS}; hack/cluster.sh down removes what was started"
}

up() {
	need_root up
	check_cluster_dir
	lock
	if running; then
		log "the cluster is already up (hack/cluster.sh status)"
		echo "export KUBECONFIG=${HOST_KUBECONFIG}"
		return 0
	fi
	if anything_running; then
		log "taking down what an earlier up left behind"
		teardown
	fi
	local t0=${SECONDS}
	trap 'up_failed $?' EXIT
	ensure_packages
	ensure_binaries
	KUBECTL="$("${HACK_DIR}/envtest.sh")/kubectl"
	local cp_bin
	cp_bin=$(dirname "${KUBECTL}")
	api_port_free || die "127.0.0.1:${API_PORT} is in use; the cluster's API bridge needs it"
	local t1=${SECONDS}
	fresh_state
	build_images
	gen_pki
	render containerd.toml "${CONFIG}/containerd.toml"
	render cni.conflist "${CONFIG}/cni/10-ordersaga.conflist"
	render kubelet.yaml "${CONFIG}/kubelet.yaml"
	render kube-proxy.yaml "${CONFIG}/kube-proxy.yaml"
	render storage.yaml "${CONFIG}/storage.yaml"
	cp "${HACK_DIR}/cluster/resolv.conf" "${CONFIG}/resolv.conf"
	local pv
	while read -r pv; do
		mkdir -p "${pv}"
		chmod 0777 "${pv}"
	done < <(sed -n "s#.*path: \(${NODE}/pv/[^,}]*\).*#\1#p" "${CONFIG}/storage.yaml")
	make_cgroups
	log "state, images and certificates ready ($((SECONDS - t1)) s); starting the node"

	spawn node unshare --net --mount --uts --propagation slave "${SELF}" __node-init
	waitfor 10 node test -e "${RUN}/node.ready"
	echo "$(stat -L -c %i "/proc/$(pid node)/ns/net") $(stat -L -c %i "/proc/$(pid node)/ns/mnt")" >"${RUN}/node.ns"
	start containerd containerd --config "${CONFIG}/containerd.toml"
	waitfor 30 containerd in_node ctr version
	import "${IMAGES}/pause.tar"
	start etcd "${cp_bin}/etcd" --data-dir="${CLUSTER_DIR}/etcd" --listen-client-urls=http://127.0.0.1:2379 \
		--advertise-client-urls=http://127.0.0.1:2379 --listen-peer-urls=http://127.0.0.1:2380 \
		--initial-advertise-peer-urls=http://127.0.0.1:2380 --initial-cluster=default=http://127.0.0.1:2380 \
		--unsafe-no-fsync
	waitfor 30 etcd in_node curl -sf http://127.0.0.1:2379/health
	start kube-apiserver "${cp_bin}/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 \
		--advertise-address="${NODE_IP}" --bind-address=0.0.0.0 --secure-port=6443 \
		--service-cluster-ip-range="${SERVICE_CIDR}" --service-node-port-range=30000-32767 \
		--client-ca-file="${PKI}/ca.crt" --tls-cert-file="${PKI}/apiserver.crt" --tls-private-key-file="${PKI}/apiserver.key" \
		--kubelet-client-certificate="${PKI}/apiserver-kubelet-client.crt" --kubelet-client-key="${PKI}/apiserver-kubelet-client.key" \
		--kubelet-certificate-authority="${PKI}/ca.crt" --kubelet-preferred-address-types=InternalIP \
		--service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--service-account-key-file="${PKI}/sa.pub" --service-account-signing-key-file="${PKI}/sa.key" \
		--authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --allow-privileged=true
	waitfor 90 kube-apiserver kc get --raw /readyz
	log "API server ready ($((SECONDS - t1)) s)"
	local k="${PKI}/controller-manager.kubeconfig"
	start kube-controller-manager "${K8S_BIN}/kube-controller-manager" --kubeconfig="${k}" \
		--authentication-kubeconfig="${k}" --authorization-kubeconfig="${k}" \
		--service-account-private-key-file="${PKI}/sa.key" --root-ca-file="${PKI}/ca.crt" \
		--cluster-signing-cert-file="${PKI}/ca.crt" --cluster-signing-key-file="${PKI}/ca.key" \
		--use-service-account-credentials=true --allocate-node-cidrs=true --cluster-cidr="${POD_CIDR}" \
		--node-cidr-mask-size=24 --service-cluster-ip-range="${SERVICE_CIDR}" --leader-elect=false --bind-address=127.0.0.1
	k="${PKI}/scheduler.kubeconfig"
	start kube-scheduler "${K8S_BIN}/kube-scheduler" --kubeconfig="${k}" \
		--authentication-kubeconfig="${k}" --authorization-kubeconfig="${k}" --leader-elect=false --bind-address=127.0.0.1
	start kubelet "${K8S_BIN}/kubelet" --config="${CONFIG}/kubelet.yaml" --kubeconfig="${PKI}/kubelet.kubeconfig" \
		--node-ip="${NODE_IP}" --hostname-override="${NODE_NAME}"
	start kube-proxy "${K8S_BIN}/kube-proxy" --config="${CONFIG}/kube-proxy.yaml"
	# The host reaches the API server through a Unix socket in the state folder: sockets on the
	# file system cross network namespaces, so neither side needs nsenter per connection.
	start api-bridge-node socat "UNIX-LISTEN:${RUN}/api.sock,fork,unlink-early" "TCP4:${NODE_IP}:6443"
	spawn api-bridge socat "TCP4-LISTEN:${API_PORT},bind=127.0.0.1,reuseaddr,fork" "UNIX-CONNECT:${RUN}/api.sock"
	wait "${COREDNS_JOB}" || die "building the CoreDNS image failed"
	import "${IMAGES}/coredns.tar"
	# CoreDNS and the storage can be created before the node is Ready; the scheduler waits for it.
	waitfor 30 kube-apiserver kc apply -f "${HACK_DIR}/cluster/coredns.yaml" -f "${CONFIG}/storage.yaml"
	waitfor 90 kubelet kc wait --for=condition=Ready "node/${NODE_NAME}" --timeout=1s
	log "node ${NODE_NAME} Ready ($((SECONDS - t1)) s)"
	waitfor 10 api-bridge "${KUBECTL}" --kubeconfig "${HOST_KUBECONFIG}" get --raw /readyz
	if ! kc -n kube-system rollout status deploy/coredns --timeout=120s >/dev/null; then
		kc -n kube-system get pods -o wide >&2 || true
		die "CoreDNS did not become Ready"
	fi
	log "CoreDNS Ready; cluster up in $((SECONDS - t1)) s ($((SECONDS - t0)) s with the checks and builds)"
	trap - EXIT
	echo "export KUBECONFIG=${HOST_KUBECONFIG}"
}

# kill_containers removes every container through containerd while it still runs, so that the
# shims exit and containerd's store holds no stale containers at the next up.
kill_containers() {
	pid containerd >/dev/null || return 0
	# shellcheck disable=SC2016 # expanded inside the node
	in_node bash -c 'ids=$(ctr -n k8s.io task ls -q); [ -z "$ids" ] || ctr -n k8s.io task delete -f $ids
		ids=$(ctr -n k8s.io containers ls -q); [ -z "$ids" ] || ctr -n k8s.io containers rm $ids' >/dev/null 2>&1 || true
}

# kill_node_processes ends whatever still runs in the node's namespaces, the holder included:
# containerd-shim-runc-v2 outlives containerd by design, and a shell someone entered with
# nsenter would keep the namespaces alive.
kill_node_processes() {
	[ -s "${RUN}/node.ns" ] || return 0
	local i left
	for ((i = 0; i < 25; i++)); do
		left=$(node_processes)
		[ -n "${left}" ] || return 0
		# shellcheck disable=SC2086 # a list of PIDs
		kill -KILL ${left} 2>/dev/null || true
		sleep 0.2
	done
	log "processes left in the node's namespaces: ${left}"
}

# node_processes prints the processes in the node's network or mount namespace, whose inodes
# up recorded in run/node.ns.
node_processes() {
	local net mnt
	read -r net mnt <"${RUN}/node.ns"
	# stat fails for the processes that end while it runs
	{ stat -L -c '%n %i' /proc/[0-9]*/ns/net /proc/[0-9]*/ns/mnt 2>/dev/null || true; } |
		awk -v net="/net ${net}" -v mnt="/mnt ${mnt}" \
			'index($0, net) || index($0, mnt) { split($1, f, "/"); print f[3] }' | sort -u | tr '\n' ' '
}

teardown() {
	# Everything but containerd first: kubelet would restart the containers removed next.
	stop api-bridge api-bridge-node kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver etcd
	kill_containers
	stop containerd
	kill_node_processes
	remove_cgroups || true
	stop node
	rm -f "${RUN}"/*.pid "${RUN}/node.ready" "${RUN}/node.ns" "${RUN}/api.sock"
}

down() {
	need_root down
	lock
	if ! anything_running; then
		log "the cluster is not up"
		return 0
	fi
	local t0=${SECONDS}
	teardown
	log "cluster down in $((SECONDS - t0)) s"
}

status() {
	local c p up=0
	for c in ${COMPONENTS}; do
		if p=$(pid "${c}"); then
			printf '%-24s up    %s\n' "${c}" "${p}"
			up=1
		else
			printf '%-24s down\n' "${c}"
		fi
	done
	[ "${up}" = 1 ] || return 0
	local ready="unknown (the API server does not answer)"
	if [ ! -r "${HOST_KUBECONFIG}" ]; then
		ready="unknown (${HOST_KUBECONFIG} is not readable)"
	elif pid api-bridge >/dev/null; then
		KUBECTL="$("${HACK_DIR}/envtest.sh")/kubectl"
		ready=$("${KUBECTL}" --kubeconfig "${HOST_KUBECONFIG}" --request-timeout=5s get node "${NODE_NAME}" \
			-o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) || ready="unknown (no answer)"
		[ "${ready}" != True ] || ready=Ready
		[ "${ready}" != False ] || ready="NotReady"
	fi
	printf 'node %s: %s\n' "${NODE_NAME}" "${ready}"
}

load() {
	need_root load
	[ "$#" -gt 0 ] || die "usage: hack/cluster.sh load TAR..."
	lock
	pid containerd >/dev/null || die "the cluster is not up (hack/cluster.sh up)"
	local t
	for t in "$@"; do [ -f "${t}" ] || die "${t}: no such file"; done
	import "$@"
	log "loaded $*"
}

case "${1:-}" in
build) ensure_binaries ;;
up) up ;;
down) down ;;
status) status ;;
load)
	shift
	load "$@"
	;;
can-run) can_run ;;
__node-init) node_init ;;
*)
	echo "usage: hack/cluster.sh up | down | status | load TAR... | can-run | build" >&2
	exit 2
	;;
esac
