#include "container.h"

#include <gtest/gtest.h>

using namespace ltrack::tracing;

namespace {
const std::string id64 = "4f3c9a1e2b7d6f8a0c1e3b5d7f9a2c4e6b8d0f1a3c5e7b9d2f4a6c8e0b1d3f5a";
const std::string id64b = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d";
} // namespace

TEST(container, docker_systemd_driver)
{
	container_info c = parse_container("/system.slice/docker-" + id64 + ".scope");
	EXPECT_EQ(c.runtime, container_runtime::docker);
	EXPECT_EQ(c.id, id64);
	EXPECT_EQ(c.unit, "");
	EXPECT_STREQ(runtime_name(c.runtime), "docker");
}

TEST(container, docker_cgroupfs_driver)
{
	container_info c = parse_container("/docker/" + id64);
	EXPECT_EQ(c.runtime, container_runtime::docker);
	EXPECT_EQ(c.id, id64);
	// A nested cgroup inside the container still names it.
	c = parse_container("/docker/" + id64 + "/worker");
	EXPECT_EQ(c.runtime, container_runtime::docker);
	EXPECT_EQ(c.id, id64);
}

TEST(container, containerd)
{
	container_info c = parse_container("/system.slice/containerd.service/k8s.io/" + id64);
	EXPECT_EQ(c.runtime, container_runtime::containerd);
	EXPECT_EQ(c.id, id64);
	c = parse_container("/system.slice/containerd.service");
	EXPECT_EQ(c.runtime, container_runtime::containerd);
	EXPECT_EQ(c.id, "");
	EXPECT_EQ(c.unit, "containerd.service");
	c = parse_container("/system.slice/cri-containerd-" + id64 + ".scope");
	EXPECT_EQ(c.runtime, container_runtime::containerd);
	EXPECT_EQ(c.id, id64);
}

TEST(container, crio)
{
	container_info c = parse_container("/machine.slice/crio-" + id64 + ".scope");
	EXPECT_EQ(c.runtime, container_runtime::crio);
	EXPECT_EQ(c.id, id64);
	EXPECT_FALSE(c.conmon);
	c = parse_container("/machine.slice/crio-conmon-" + id64 + ".scope");
	EXPECT_EQ(c.runtime, container_runtime::crio);
	EXPECT_EQ(c.id, id64);
	EXPECT_TRUE(c.conmon);
	EXPECT_STREQ(runtime_name(c.runtime), "cri-o");
}

TEST(container, podman)
{
	container_info c = parse_container("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + id64 +
					   ".scope/container");
	EXPECT_EQ(c.runtime, container_runtime::podman);
	EXPECT_EQ(c.id, id64);
	c = parse_container("/machine.slice/libpod-conmon-" + id64 + ".scope");
	EXPECT_EQ(c.runtime, container_runtime::podman);
	EXPECT_TRUE(c.conmon);
}

TEST(container, kubernetes_systemd_driver)
{
	container_info c = parse_container(
		"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0b1c2d3e_4f5a_6b7c_8d9e_0f1a2b3c4d5e.slice/"
		"cri-containerd-" +
		id64 + ".scope");
	EXPECT_EQ(c.runtime, container_runtime::kubernetes);
	EXPECT_EQ(c.pod_uid, "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e");
	EXPECT_EQ(c.id, id64);

	c = parse_container("/kubepods.slice/kubepods-pod11112222_3333_4444_5555_666677778888.slice/crio-" + id64b +
			    ".scope");
	EXPECT_EQ(c.runtime, container_runtime::kubernetes);
	EXPECT_EQ(c.pod_uid, "11112222-3333-4444-5555-666677778888");
	EXPECT_EQ(c.id, id64b);
}

TEST(container, kubernetes_cgroupfs_driver)
{
	container_info c = parse_container("/kubepods/burstable/pod0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e/" + id64);
	EXPECT_EQ(c.runtime, container_runtime::kubernetes);
	EXPECT_EQ(c.pod_uid, "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e");
	EXPECT_EQ(c.id, id64);
	// The pod's own cgroup (pause-less processes): pod, no container.
	c = parse_container("/kubepods/besteffort/podaaaa-bbbb");
	EXPECT_EQ(c.pod_uid, "aaaa-bbbb");
	EXPECT_EQ(c.id, "");
}

TEST(container, systemd_units_are_not_containers)
{
	container_info c = parse_container("/system.slice/inference.service");
	EXPECT_EQ(c.runtime, container_runtime::none);
	EXPECT_EQ(c.unit, "inference.service");
	EXPECT_STREQ(runtime_name(c.runtime), "");
	c = parse_container("/user.slice/user-1000.slice/session-4.scope");
	EXPECT_EQ(c.runtime, container_runtime::none);
	EXPECT_EQ(c.unit, "session-4.scope");
	c = parse_container("/");
	EXPECT_EQ(c.runtime, container_runtime::none);
	EXPECT_EQ(c.unit, "");
	c = parse_container("");
	EXPECT_EQ(c.runtime, container_runtime::none);
	// A scope that merely looks like a runtime's without an id.
	c = parse_container("/system.slice/docker-.scope");
	EXPECT_EQ(c.runtime, container_runtime::none);
	EXPECT_EQ(c.unit, "docker-.scope");
}
