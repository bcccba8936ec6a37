// libFuzzer target: parse + compile a policy from bytes, then the writers and
// the evaluator on whatever compiled. Paths resolve against nothing
// (resolve_synthetic), so the fuzzer never depends on this host's files.
#include "evaluate.h"
#include "policy.h"
#include "summary.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	using namespace ltrack::policy;
	if (size > 64 * 1024)
		return 0;
	compile_options opts;
	opts.resolve_paths = false;
	compile_result r =
		compile_string(std::string_view(reinterpret_cast<const char *>(data), size), "fuzz.toml", opts);
	for (const auto &d : r.diagnostics)
		(void)format(d);
	(void)summary_json(r.policy ? &*r.policy : nullptr, r.diagnostics);
	if (!r.policy)
		return 0;
	const compiled_policy &p = *r.policy;
	(void)summary_text(p);
	for (const auto &prof : p.profiles) {
		for (const char *dest : {"127.0.0.1:8080/tcp", "[::1]:443", "10.1.2.3:53/udp", "unix:/run/x"})
			if (auto e = explain_connect(p, prof.name, dest); e.ex)
				(void)explanation_json(p, *e.ex);
		for (const auto &t : p.targets) {
			if (t.resolved.empty())
				continue;
			if (auto e = explain_file(p, prof.name, t.resolved + "/x.pkl", LTRACK_VERDICT_SUSPICIOUS,
						  resolve_synthetic);
			    e.ex)
				(void)explanation_text(p, *e.ex);
			(void)explain_exec(p, prof.name, t.resolved, resolve_synthetic);
		}
	}
	return 0;
}
