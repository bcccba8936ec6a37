#include "container.h"

#include <vector>

namespace ltrack::tracing {

const char *runtime_name(container_runtime r)
{
	switch (r) {
	case container_runtime::docker: return "docker";
	case container_runtime::containerd: return "containerd";
	case container_runtime::crio: return "cri-o";
	case container_runtime::podman: return "podman";
	case container_runtime::kubernetes: return "kubernetes";
	case container_runtime::none: break;
	}
	return "";
}

namespace {

bool is_hex_id(std::string_view s)
{
	if (s.size() < 12) // docker's short ids are 12; anything shorter is not an id
		return false;
	for (char c : s)
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	return true;
}

bool strip_prefix(std::string_view &s, std::string_view p)
{
	if (!s.starts_with(p))
		return false;
	s.remove_prefix(p.size());
	return true;
}

bool strip_suffix(std::string_view &s, std::string_view p)
{
	if (!s.ends_with(p))
		return false;
	s.remove_suffix(p.size());
	return true;
}

std::vector<std::string_view> split_path(std::string_view path)
{
	std::vector<std::string_view> parts;
	while (!path.empty()) {
		size_t slash = path.find('/');
		std::string_view part = path.substr(0, slash);
		if (!part.empty())
			parts.push_back(part);
		if (slash == std::string_view::npos)
			break;
		path.remove_prefix(slash + 1);
	}
	return parts;
}

// A systemd scope named for a container: "<prefix><id>.scope".
struct scope_kind {
	std::string_view prefix;
	container_runtime runtime;
	bool conmon;
};
constexpr scope_kind scope_kinds[] = {
	// Longest prefixes first: "crio-conmon-" before "crio-".
	{"cri-containerd-", container_runtime::containerd, false},
	{"crio-conmon-", container_runtime::crio, true},
	{"crio-", container_runtime::crio, false},
	{"libpod-conmon-", container_runtime::podman, true},
	{"libpod-", container_runtime::podman, false},
	{"docker-", container_runtime::docker, false},
	{"nerdctl-", container_runtime::containerd, false},
};

bool match_scope(std::string_view part, container_info &out)
{
	if (!strip_suffix(part, ".scope"))
		return false;
	for (const scope_kind &k : scope_kinds) {
		std::string_view id = part;
		if (strip_prefix(id, k.prefix) && !id.empty()) {
			out.runtime = k.runtime;
			out.id = std::string(id);
			out.conmon = k.conmon;
			return true;
		}
	}
	return false;
}

// "kubepods-burstable-pod0b1c_22.slice" (systemd driver, '-' escaped as '_')
// or "pod0b1c-22" (cgroupfs driver).
bool match_pod(std::string_view part, std::string &uid)
{
	if (strip_suffix(part, ".slice")) {
		size_t at = part.rfind("-pod");
		if (at == std::string_view::npos)
			return false;
		part.remove_prefix(at + 4);
	} else if (!strip_prefix(part, "pod")) {
		return false;
	}
	if (part.empty())
		return false;
	uid.assign(part);
	for (char &c : uid)
		if (c == '_')
			c = '-';
	return true;
}

} // namespace

container_info parse_container(std::string_view cgroup_path)
{
	container_info out;
	std::vector<std::string_view> parts = split_path(cgroup_path);

	bool kube = false;
	for (std::string_view p : parts)
		if (p == "kubepods" || p.starts_with("kubepods-") || p == "kubepods.slice")
			kube = true;

	if (kube) {
		out.runtime = container_runtime::kubernetes;
		for (std::string_view p : parts) {
			std::string uid;
			if (out.pod_uid.empty() && match_pod(p, uid))
				out.pod_uid = std::move(uid);
		}
		// The container is the deepest component: a runtime scope (systemd
		// driver) or a bare id (cgroupfs driver). A process directly in the
		// pod's cgroup has no container id.
		if (!parts.empty()) {
			std::string_view last = parts.back();
			container_info scope;
			if (match_scope(last, scope)) {
				out.id = scope.id;
				out.conmon = scope.conmon;
			} else if (is_hex_id(last)) {
				out.id = std::string(last);
			}
		}
		return out;
	}

	for (size_t i = parts.size(); i-- > 0;) {
		if (match_scope(parts[i], out))
			return out;
		// cgroupfs layouts: "/docker/<id>", "/libpod_parent/libpod-<id>" and
		// containerd's "<daemon cgroup>/<namespace>/<id>".
		if (i > 0 && parts[i - 1] == "docker") {
			out.runtime = container_runtime::docker;
			out.id = std::string(parts[i]);
			return out;
		}
	}
	for (size_t i = 0; i < parts.size(); ++i) {
		if (parts[i] != "containerd.service")
			continue;
		out.runtime = container_runtime::containerd;
		// Tasks of containerd itself (the daemon, shims) sit in the unit's
		// cgroup; a container run with the cgroupfs driver below it by id.
		for (size_t j = parts.size(); j-- > i + 1;)
			if (is_hex_id(parts[j])) {
				out.id = std::string(parts[j]);
				break;
			}
		if (out.id.empty())
			out.unit = "containerd.service";
		return out;
	}

	for (size_t i = parts.size(); i-- > 0;) {
		std::string_view p = parts[i];
		if (p.ends_with(".service") || p.ends_with(".scope")) {
			out.unit = std::string(p);
			break;
		}
	}
	return out;
}

} // namespace ltrack::tracing
