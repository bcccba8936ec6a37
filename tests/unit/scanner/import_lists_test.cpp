#include <gtest/gtest.h>

#include "import_lists.h"

using namespace ltrack::scanner;
using k = enum import_ref::kind;

TEST(scanner_import_lists, allowlist_is_exact)
{
	EXPECT_EQ(classify_import("torch._utils", "_rebuild_tensor_v2"), k::allowed);
	EXPECT_EQ(classify_import("torch", "FloatStorage"), k::allowed);
	EXPECT_EQ(classify_import("collections", "OrderedDict"), k::allowed);
	EXPECT_EQ(classify_import("numpy.core.multiarray", "_reconstruct"), k::allowed);
	EXPECT_EQ(classify_import("numpy", "dtype"), k::allowed);
	EXPECT_EQ(classify_import("numpy.dtypes", "Float64DType"), k::allowed);
	EXPECT_EQ(classify_import("joblib.numpy_pickle", "NumpyArrayWrapper"), k::allowed);
	// neighbours of allowed names are not allowed
	EXPECT_EQ(classify_import("torch._utils", "_rebuild_tensor_v9"), k::unknown);
	EXPECT_EQ(classify_import("collections", "namedtuple"), k::unknown);
	EXPECT_EQ(classify_import("numpy.dtypes", "_private"), k::unknown);
}

TEST(scanner_import_lists, dangerous_modules_match_by_component)
{
	EXPECT_EQ(classify_import("os", "system"), k::dangerous);
	EXPECT_EQ(classify_import("os.path", "join"), k::dangerous);
	EXPECT_EQ(classify_import("subprocess", "run"), k::dangerous);
	EXPECT_EQ(classify_import("builtins", "eval"), k::dangerous);
	EXPECT_EQ(classify_import("__builtin__", "getattr"), k::dangerous);
	EXPECT_EQ(classify_import("numpy", "load"), k::dangerous);
	EXPECT_EQ(classify_import("torch.hub", "load"), k::dangerous);
	// a prefix that is not a whole component does not match
	EXPECT_EQ(classify_import("osmosis", "run"), k::unknown);
	EXPECT_EQ(classify_import("system", "os"), k::unknown);
	// harmless builtins are allowed, the rest of builtins is not
	EXPECT_EQ(classify_import("builtins", "set"), k::allowed);
	EXPECT_EQ(classify_import("builtins", "print"), k::unknown);
}

TEST(scanner_import_lists, dotted_names_never_allowed)
{
	EXPECT_EQ(classify_import("collections", "OrderedDict.__init__"), k::dangerous);
	EXPECT_EQ(classify_import("torch", "nn.os.system"), k::dangerous);
	EXPECT_EQ(classify_import("builtins", "getattr.x"), k::dangerous);
	EXPECT_EQ(classify_import("torch", "nn.Linear"), k::unknown);
}

TEST(scanner_import_lists, command_running_helpers_are_dangerous)
{
	// issue 23: helpers that run a command outside os/subprocess
	EXPECT_EQ(classify_import("uuid", "_get_command_stdout"), k::dangerous);
	EXPECT_EQ(classify_import("uuid", "_find_mac"), k::dangerous);
	EXPECT_EQ(classify_import("uuid", "getnode"), k::dangerous);
	EXPECT_EQ(classify_import("pydoc", "pipepager"), k::dangerous);
	EXPECT_EQ(classify_import("pydoc", "tempfilepager"), k::dangerous);
	EXPECT_EQ(classify_import("pydoc", "locate"), k::dangerous);
	EXPECT_EQ(classify_import("_osx_support", "_read_output"), k::dangerous);
	EXPECT_EQ(classify_import("_osx_support", "_find_build_tool"), k::dangerous);
	EXPECT_EQ(classify_import("imaplib", "IMAP4_stream"), k::dangerous);
	EXPECT_EQ(classify_import("pipes", "Template"), k::dangerous);
	EXPECT_EQ(classify_import("logging.config", "listen"), k::dangerous);
	EXPECT_EQ(classify_import("_bootsubprocess", "_waitstatus_to_exitcode"), k::dangerous);
	// joblib's NDArrayWrapper numpy.load()s a path named in the pickle
	EXPECT_EQ(classify_import("joblib.numpy_pickle_compat", "NDArrayWrapper"), k::dangerous);
	EXPECT_EQ(classify_import("joblib.numpy_pickle", "NDArrayWrapper"), k::dangerous);
	EXPECT_EQ(classify_import("sklearn.externals.joblib.numpy_pickle", "NDArrayWrapper"), k::dangerous);
	// the value types next to them stay allowed
	EXPECT_EQ(classify_import("uuid", "UUID"), k::allowed);
	EXPECT_EQ(classify_import("joblib.numpy_pickle", "NumpyArrayWrapper"), k::allowed);
}
