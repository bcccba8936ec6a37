// The lists themselves. Extending: add "module.name" (one callable) or
// "module" (the module and every submodule) to the arrays below and add a
// case to tests/unit/scanner; docs/models.md explains the criteria.
#include "import_lists.h"

#include <array>
#include <string>

namespace ltrack::scanner {
namespace {

// Tables packed by hand, several names a line:
// clang-format off
// Whole modules (and their submodules) whose callables can run commands,
// load code, open files or sockets, or unpickle further data.
constexpr std::array dangerous_modules = {
	"os", "posix", "nt", "posixpath", "ntpath", "subprocess", "socket", "_socket", "ssl", "runpy",
	"pty", "shutil", "importlib", "imp", "zipimport", "pkgutil", "marshal", "ctypes", "_ctypes",
	"sys", "code", "codeop", "pickle", "_pickle", "cPickle", "pickletools", "dill", "cloudpickle",
	"shelve", "webbrowser", "commands", "popen2", "multiprocessing", "_posixsubprocess",
	"threading", "_thread", "thread", "asyncio", "signal", "fcntl", "resource", "pdb", "bdb",
	"timeit", "cProfile", "profile", "trace", "doctest", "telnetlib", "ftplib", "smtplib",
	"http", "urllib", "urllib2", "httplib", "requests", "xmlrpc", "xmlrpclib", "socketserver",
	"SocketServer", "tempfile", "io", "_io", "fileinput", "linecache", "tarfile",
	"zipfile", "gc", "inspect", "types", "platform", "venv", "ensurepip", "distutils",
	"setuptools", "pip", "site", "sysconfig", "builtins.__import__", "operator", "_operator",
	"functools.partial", "torch.hub", "torch.load", "torch.serialization", "torch.storage._load_from_bytes",
	"torch._C", "torch.jit", "torch.package", "torch.ops", "torch.classes", "torch.utils.cpp_extension",
	"numpy.load", "numpy.lib.npyio", "numpy.testing", "numpy.f2py", "numpy.distutils",
	"numpy.ctypeslib", "joblib.load", "joblib.numpy_pickle.load", "pandas.read_pickle",
	"keras.models.load_model", "tensorflow.io", "tensorflow.keras.models",
	// stdlib helpers that run a command or import by name: whole modules
	// where nothing is needed by a model, the helpers elsewhere
	"pydoc", "_osx_support", "_aix_support", "_bootsubprocess", "pipes", "imaplib", "tkinter",
	"_tkinter", "idlelib", "lib2to3", "unittest", "test", "logging", "sqlite3", "mmap",
	"_winapi", "msvcrt", "winreg", "_xxsubinterpreters", "cgitb", "mailcap", "readline",
	"uuid._get_command_stdout", "uuid._popen", "uuid._find_mac", "uuid._find_mac_near_keyword",
	"uuid._find_mac_under_heading", "uuid._ifconfig_getnode", "uuid._ip_getnode",
	"uuid._arp_getnode", "uuid._lanscan_getnode", "uuid._netstat_getnode", "uuid._unix_getnode",
	"uuid._windll_getnode", "uuid._random_getnode", "uuid.getnode", "uuid.uuid1",
	"codecs.open", "codecs.EncodedFile",
	// joblib's old array wrappers make the unpickler numpy.load (with
	// allow_pickle) or read a file named inside the pickle
	"joblib.numpy_pickle_compat", "joblib.numpy_pickle.NDArrayWrapper",
	"joblib.numpy_pickle.ZNDArrayWrapper", "joblib.numpy_pickle.load_compatibility",
	"sklearn.externals.joblib.numpy_pickle_compat", "sklearn.externals.joblib.numpy_pickle.NDArrayWrapper",
	"sklearn.externals.joblib.numpy_pickle.ZNDArrayWrapper",
};

// Names in builtins / __builtin__ that execute code, reach arbitrary
// attributes or touch the filesystem.
constexpr std::array dangerous_builtins = {
	"eval", "exec", "execfile", "compile", "__import__", "getattr", "setattr", "delattr",
	"open", "file", "input", "raw_input", "globals", "locals", "vars", "breakpoint", "apply",
	"reload", "__loader__", "__build_class__", "help", "exit", "quit", "memoryview", "type",
	"super", "classmethod", "staticmethod", "property", "dir",
};

// Callables model files legitimately import. Exact "module.name".
constexpr std::array allowed_callables = {
	// PyTorch checkpoints
	"torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
	"torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
	"torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_qtensor",
	"torch._utils._rebuild_device_tensor_from_numpy", "torch._utils._rebuild_meta_tensor_no_storage",
	"torch._utils._rebuild_wrapper_subclass", "torch._utils._rebuild_nested_tensor",
	"torch._tensor._rebuild_from_type_v2", "torch._utils._set_obj_state",
	"torch.nn.parameter.Parameter", "torch.Size", "torch.device", "torch.dtype", "torch.Tensor",
	"torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage",
	"torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage",
	"torch.ByteStorage", "torch.BoolStorage", "torch.ComplexFloatStorage",
	"torch.ComplexDoubleStorage", "torch.QUInt8Storage", "torch.QInt8Storage",
	"torch.QInt32Storage", "torch.QUInt4x2Storage", "torch.QUInt2x4Storage", "torch.UntypedStorage",
	"torch.float32", "torch.float64", "torch.float16", "torch.bfloat16", "torch.int64",
	"torch.int32", "torch.int16", "torch.int8", "torch.uint8", "torch.bool", "torch.complex64",
	"torch.complex128", "torch.float", "torch.double", "torch.half", "torch.long", "torch.int",
	"torch.short", "torch.strided", "torch.sparse_coo", "torch.sparse_csr",
	"torch.per_tensor_affine", "torch.per_channel_affine",
	// plain containers and values
	"collections.OrderedDict", "collections.defaultdict", "collections.Counter", "collections.deque",
	"builtins.set", "builtins.frozenset", "builtins.slice", "builtins.bytearray", "builtins.bytes",
	"builtins.complex", "builtins.range", "builtins.object", "builtins.list", "builtins.dict",
	"builtins.tuple", "builtins.int", "builtins.float", "builtins.bool", "builtins.str",
	"__builtin__.set", "__builtin__.frozenset", "__builtin__.slice", "__builtin__.bytearray",
	"__builtin__.complex", "__builtin__.object", "__builtin__.list", "__builtin__.dict",
	"__builtin__.tuple", "__builtin__.int", "__builtin__.long", "__builtin__.float",
	"__builtin__.bool", "__builtin__.str", "__builtin__.unicode",
	"copyreg._reconstructor", "copy_reg._reconstructor", "_codecs.encode", "codecs.encode",
	"datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta",
	"datetime.timezone", "decimal.Decimal", "fractions.Fraction", "uuid.UUID",
	// numpy arrays, dtypes and scalars (numpy 1.x and 2.x spellings)
	"numpy.core.multiarray._reconstruct", "numpy.core.multiarray.scalar",
	"numpy._core.multiarray._reconstruct", "numpy._core.multiarray.scalar",
	"numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer",
	"numpy.dtype", "numpy.ndarray", "numpy.ma.core._mareconstruct", "numpy.ma.core.MaskedArray",
	"numpy.random._pickle.__randomstate_ctor", "numpy.random._pickle.__generator_ctor",
	"numpy.random._pickle.__bit_generator_ctor",
	// joblib / scikit-learn array wrappers (the data follows in the stream)
	"joblib.numpy_pickle.NumpyArrayWrapper", "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
};
// clang-format on

#include "compat_pickle.inc"

// Modules whose every public name is a data type.
constexpr std::array allowed_modules = {"numpy.dtypes"};

bool module_under(std::string_view module, std::string_view root)
{
	return module == root ||
	       (module.size() > root.size() && module.starts_with(root) && module[root.size()] == '.');
}

bool is_builtins(std::string_view module)
{
	return module == "builtins" || module == "__builtin__" || module == "__builtins__";
}

bool dangerous_path(std::string_view module, std::string_view name)
{
	if (is_builtins(module)) {
		std::string_view first = name.substr(0, name.find('.'));
		for (std::string_view b : dangerous_builtins)
			if (first == b)
				return true;
	}
	// Entries are modules or module.name: match the dotted path as a prefix
	// at a component boundary, so "os" catches os.path.join and "numpy.load"
	// catches exactly numpy.load (and numpy.load.__globals__ ...).
	std::string full = std::string(module) + "." + std::string(name);
	for (std::string_view d : dangerous_modules)
		if (module_under(module, d) || module_under(full, d))
			return true;
	return false;
}

} // namespace

std::optional<std::pair<std::string_view, std::string_view>> python2_name(std::string_view module,
									  std::string_view name)
{
	for (const auto &m : py2_name_mapping)
		if (module == m[0] && name == m[1])
			return std::pair<std::string_view, std::string_view>(m[2], m[3]);
	for (const auto &m : py2_import_mapping)
		if (module == m[0])
			return std::pair<std::string_view, std::string_view>(m[1], name);
	return std::nullopt;
}

enum import_ref::kind classify_import_py2(std::string_view module, std::string_view name)
{
	using k = enum import_ref::kind;
	k as_written = classify_import(module, name);
	auto mapped = python2_name(module, name);
	if (!mapped || as_written == k::dangerous)
		return as_written;
	k resolved = classify_import(mapped->first, mapped->second);
	if (resolved == k::dangerous || as_written == k::allowed)
		return resolved;
	return as_written; // unknown, and the mapped name is not dangerous
}

std::span<const std::array<const char *, 2>> python2_import_mapping()
{
	return py2_import_mapping;
}
std::span<const std::array<const char *, 4>> python2_name_mapping()
{
	return py2_name_mapping;
}

std::span<const char *const> dangerous_module_list()
{
	return dangerous_modules;
}
std::span<const char *const> dangerous_builtin_list()
{
	return dangerous_builtins;
}

enum import_ref::kind classify_import(std::string_view module, std::string_view name)
{
	using k = enum import_ref::kind;
	if (dangerous_path(module, name))
		return k::dangerous;
	if (name.find('.') != std::string_view::npos) {
		// Protocol 4+ resolves dotted names attribute by attribute, so
		// "collections.OrderedDict" + "__init__.__globals__" reaches anything.
		// Dunder hops and hops through a dangerous module name are dangerous;
		// any other dotted name is never allowed.
		size_t start = 0;
		while (start <= name.size()) {
			size_t end = name.find('.', start);
			std::string_view part = name.substr(
				start, end == std::string_view::npos ? std::string_view::npos : end - start);
			if (part.starts_with("__"))
				return k::dangerous;
			for (std::string_view d : dangerous_modules)
				if (part == d)
					return k::dangerous;
			if (end == std::string_view::npos)
				break;
			start = end + 1;
		}
		return k::unknown;
	}
	std::string full = std::string(module) + "." + std::string(name);
	for (std::string_view a : allowed_callables)
		if (full == a)
			return k::allowed;
	for (std::string_view m : allowed_modules)
		if (module == m && !name.starts_with("_"))
			return k::allowed;
	return k::unknown;
}

} // namespace ltrack::scanner
