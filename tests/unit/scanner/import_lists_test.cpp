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
