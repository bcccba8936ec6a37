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

TEST(scanner_import_lists, python2_names_map_like_compat_pickle)
{
	// _compat_pickle: NAME_MAPPING first, else IMPORT_MAPPING on the module
	auto m = python2_name("cStringIO", "StringIO");
	ASSERT_TRUE(m);
	EXPECT_EQ(m->first, "io");
	EXPECT_EQ(m->second, "StringIO");
	m = python2_name("__builtin__", "intern");
	ASSERT_TRUE(m);
	EXPECT_EQ(m->first, "sys");
	EXPECT_EQ(m->second, "intern");
	m = python2_name("SimpleHTTPServer", "test");
	ASSERT_TRUE(m);
	EXPECT_EQ(m->first, "http.server");
	EXPECT_FALSE(python2_name("io", "StringIO"));
	EXPECT_FALSE(python2_name("cStringIOx", "StringIO"));

	// the worse of the name as written and the name resolved
	EXPECT_EQ(classify_import("cStringIO", "StringIO"), k::unknown);
	EXPECT_EQ(classify_import_py2("cStringIO", "StringIO"), k::dangerous);
	EXPECT_EQ(classify_import_py2("StringIO", "StringIO"), k::dangerous);
	EXPECT_EQ(classify_import_py2("__builtin__", "intern"), k::dangerous);
	EXPECT_EQ(classify_import_py2("__builtin__", "eval"), k::dangerous);
	EXPECT_EQ(classify_import_py2("BaseHTTPServer", "HTTPServer"), k::dangerous);
	EXPECT_EQ(classify_import_py2("CGIHTTPServer", "CGIHTTPRequestHandler"), k::dangerous);
	EXPECT_EQ(classify_import_py2("urlparse", "urljoin"), k::dangerous);
	EXPECT_EQ(classify_import_py2("Tkinter", "Tk"), k::dangerous);
	EXPECT_EQ(classify_import_py2("cPickle", "loads"), k::dangerous);
	// allowed Python 2 spellings of allowed names stay allowed
	EXPECT_EQ(classify_import_py2("copy_reg", "_reconstructor"), k::allowed);
	EXPECT_EQ(classify_import_py2("__builtin__", "set"), k::allowed);
	EXPECT_EQ(classify_import_py2("__builtin__", "long"), k::allowed);
	// unmapped names classify as written
	EXPECT_EQ(classify_import_py2("collections", "OrderedDict"), k::allowed);
	EXPECT_EQ(classify_import_py2("UserDict", "IterableUserDict"), k::unknown);
}
