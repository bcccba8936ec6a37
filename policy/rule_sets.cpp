#include "rule_sets.h"

namespace ltrack::policy {

namespace {

// Credentials and system secrets a model-serving process has no business
// reading. System files are exact paths (resolved to inodes when the policy
// is compiled; those absent on this host are listed as missing, not errors).
// Files in home directories cannot be named by path at compile time (any
// user, created later), so they are matched by their file name wherever they
// are: the kernel checks the final path component.
std::vector<rule_set> make_sets()
{
	using k = target_kind;
	return {
		{"sensitive-files",
		 "credential and system secret files: shadow, sudoers, SSH keys, cloud and Kubernetes "
		 "credentials, .netrc, shell histories",
		 {
			 {k::file, "/etc/shadow"},
			 {k::file, "/etc/shadow-"},
			 {k::file, "/etc/gshadow"},
			 {k::file, "/etc/gshadow-"},
			 {k::file, "/etc/sudoers"},
			 {k::dir, "/etc/sudoers.d"},
			 {k::dir, "/run/secrets/kubernetes.io/serviceaccount"},
			 {k::dir, "/var/run/secrets/kubernetes.io/serviceaccount"},
			 // SSH private keys (user keys by name; host keys by name too,
			 // as /etc/ssh/ssh_host_*_key has no glob in the kernel)
			 {k::name, "id_rsa"},
			 {k::name, "id_dsa"},
			 {k::name, "id_ecdsa"},
			 {k::name, "id_ecdsa_sk"},
			 {k::name, "id_ed25519"},
			 {k::name, "id_ed25519_sk"},
			 {k::name, "ssh_host_rsa_key"},
			 {k::name, "ssh_host_dsa_key"},
			 {k::name, "ssh_host_ecdsa_key"},
			 {k::name, "ssh_host_ed25519_key"},
			 // ~/.aws/credentials (and other tools' files of that exact name)
			 {k::name, "credentials"},
			 // ~/.config/gcloud
			 {k::name, "credentials.db"},
			 {k::name, "access_tokens.db"},
			 {k::name, "application_default_credentials.json"},
			 // ~/.azure
			 {k::name, "accessTokens.json"},
			 {k::name, "msal_token_cache.json"},
			 {k::name, "msal_token_cache.bin"},
			 {k::name, "service_principal_entries.json"},
			 // ~/.netrc, ~/.git-credentials
			 {k::name, ".netrc"},
			 {k::name, ".git-credentials"},
			 // shell and interpreter histories
			 {k::name, ".bash_history"},
			 {k::name, ".zsh_history"},
			 {k::name, ".python_history"},
			 {k::name, ".psql_history"},
			 {k::name, ".mysql_history"},
		 }},
		// What CPython, numpy and torch read on Debian 12 besides their own
		// code and libraries, found by running a real workload (import
		// torch and numpy, torch.load, compute, serve on loopback) under
		// inference.toml in audit mode in the VM and reading its would_deny
		// records (tests/vm/inference_host_test.cpp), plus the neighbours
		// of those files that the same calls read on other hosts
		// (getaddrinfo's gai.conf, mimetypes' mime.types). Public system
		// data only: no key, no credential, no writable state.
		{"python-runtime",
		 "what CPython, numpy and torch read on Debian: CPU and NUMA topology, the name service "
		 "(passwd, group, hosts, resolv.conf), locale, TLS configuration and CA certificates, time "
		 "zones, Python's own directories",
		 {
			 // CPU topology: glibc's get_nprocs_conf, libgomp/OpenMP and
			 // torch size their thread pools from these. Refused, they
			 // silently assume one CPU.
			 {k::file, "/sys/devices/system/cpu/possible"},
			 {k::file, "/sys/devices/system/cpu/online"},
			 {k::file, "/sys/devices/system/cpu/present"},
			 {k::file, "/sys/devices/system/cpu/kernel_max"},
			 // NUMA nodes (libnuma, torch's allocator): node*/meminfo, cpulist
			 {k::dir, "/sys/devices/system/node"},
			 {k::file, "/proc/cpuinfo"},
			 {k::file, "/proc/meminfo"},
			 {k::file, "/proc/filesystems"},
			 // Name service: getpwuid (os.path.expanduser, getpass), getaddrinfo
			 {k::file, "/etc/passwd"},
			 {k::file, "/etc/group"},
			 {k::file, "/etc/nsswitch.conf"},
			 {k::file, "/etc/host.conf"},
			 {k::file, "/etc/hosts"},
			 {k::file, "/etc/resolv.conf"},
			 {k::file, "/etc/gai.conf"},
			 {k::file, "/etc/services"},
			 {k::file, "/etc/protocols"},
			 // Locale (Python's locale module, gettext)
			 {k::file, "/etc/locale.alias"},
			 {k::dir, "/usr/lib/locale"},
			 {k::dir, "/usr/share/locale"},
			 // TLS: OpenSSL's configuration (read when ssl or hashlib load
			 // it), FIPS mode, the CA certificates. Not /etc/ssl/private.
			 {k::file, "/etc/ssl/openssl.cnf"},
			 {k::file, "/proc/sys/crypto/fips_enabled"},
			 {k::dir, "/etc/ssl/certs"},
			 {k::dir, "/usr/share/ca-certificates"},
			 // Time zones, MIME types (http.server, mimetypes)
			 {k::file, "/etc/localtime"},
			 {k::file, "/etc/timezone"},
			 {k::dir, "/usr/share/zoneinfo"},
			 {k::file, "/etc/mime.types"},
			 // The dynamic loader and the interpreter's own directories
			 // (the standard library, Debian's dist-packages, /usr/local's)
			 {k::file, "/etc/ld.so.cache"},
			 {k::dir, "/usr/lib/python3"},
			 {k::dir, "/usr/lib/python3.11"},
			 {k::dir, "/usr/local/lib/python3.11"},
			 {k::file, "/dev/null"},
			 {k::file, "/dev/urandom"},
		 }},
		// Sockets through which a process can have the host start something
		// for it, outside its own profile: a container (with the host's
		// root mounted), a transient systemd unit, a helper. Matched by the
		// socket reached (its inode, or the name its server bound), so a
		// symlink, a hard link, a bind mount or a rename of the socket
		// file does not dodge them. Not /run/systemd/notify: every
		// Type=notify service writes its readiness there, and it starts
		// nothing.
		{"host-control-sockets",
		 "sockets that make the host start things: container runtimes (Docker, containerd, CRI-O, "
		 "Podman, snapd), systemd's private socket, the D-Bus system bus, ltrack's own control socket",
		 {
			 {k::unix_socket, "/run/docker.sock"},
			 {k::unix_socket, "/var/run/docker.sock"},
			 {k::unix_socket, "/run/containerd/containerd.sock"},
			 {k::unix_socket, "/var/run/containerd/containerd.sock"},
			 {k::unix_socket, "/run/containerd/containerd.sock.ttrpc"},
			 {k::unix_socket, "/run/crio/crio.sock"},
			 {k::unix_socket, "/var/run/crio/crio.sock"},
			 {k::unix_socket, "/run/podman/podman.sock"},
			 {k::unix_socket, "/run/snapd.socket"},
			 {k::unix_socket, "/run/systemd/private"},
			 {k::unix_socket, "/run/dbus/system_bus_socket"},
			 {k::unix_socket, "/var/run/dbus/system_bus_socket"},
			 {k::unix_socket, "/run/ltrack/ltrackd.sock"},
		 }},
	};
}

} // namespace

const std::vector<rule_set> &rule_sets()
{
	static const std::vector<rule_set> sets = make_sets();
	return sets;
}

const rule_set *find_rule_set(const std::string &name)
{
	for (const auto &s : rule_sets())
		if (name == s.name)
			return &s;
	return nullptr;
}

} // namespace ltrack::policy
