// Which container (or systemd unit) a process runs in, read from its cgroup v2 path.
#pragma once

#include <string>
#include <string_view>

namespace ltrack::tracing {

enum class container_runtime { none, docker, containerd, crio, podman, kubernetes };

// "docker", "containerd", "cri-o", "podman", "kubernetes"; "" for none.
const char *runtime_name(container_runtime r);

struct container_info {
	container_runtime runtime = container_runtime::none;
	std::string id;      // usually 64 hex digits; as found otherwise
	std::string pod_uid; // Kubernetes only, with dashes ("0b1c...-...")
	bool conmon = false; // CRI-O/podman monitor process, not the container itself
	std::string name;    // not in the cgroup path: filled by whoever knows it (runtime API)
	std::string unit;    // no container: the systemd unit, e.g. "inference.service"
};

// Pure string parsing; never touches the file system. Unknown layouts give
// runtime none and, if the path ends in a systemd unit, that unit.
container_info parse_container(std::string_view cgroup_path);

} // namespace ltrack::tracing
