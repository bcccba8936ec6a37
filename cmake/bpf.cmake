# Turning BPF C into a libbpf skeleton.
#
# bpf_generate_vmlinux(): <build>/bpf/vmlinux.h from the build host's kernel BTF. CO-RE
#   relocates every field access at load time, so the guest or production
#   kernel may differ from the one the header came from.
# bpf_object(NAME SOURCES a.bpf.c ... HEADERS ...): compiles each source with
#   clang for the bpf target, links them into NAME.bpf.o (bpftool gen object)
#   and generates NAME.skel.h. Depend on target NAME_skel (one custom target,
#   so parallel builds never race on the outputs).

find_program(BPFTOOL bpftool PATHS /usr/sbin /sbin REQUIRED)
find_program(BPF_CLANG clang REQUIRED)
set(LTRACK_VMLINUX_BTF /sys/kernel/btf/vmlinux CACHE FILEPATH "Kernel BTF that vmlinux.h is generated from")

# clang's default system include directories, which -target bpf drops
# (as libbpf-bootstrap does); asm/ headers live in the multiarch folder.
execute_process(COMMAND ${BPF_CLANG} -v -E - INPUT_FILE /dev/null
  OUTPUT_VARIABLE _out ERROR_VARIABLE _clang_v)
string(REGEX MATCH "#include <...> search starts here:\n(.*)\nEnd of search list." _ "${_clang_v}")
string(STRIP "${CMAKE_MATCH_1}" _dirs)
string(REGEX REPLACE "\n +" ";" _dirs "${_dirs}")
set(BPF_SYS_INCLUDES)
foreach(d ${_dirs})
  list(APPEND BPF_SYS_INCLUDES -idirafter ${d})
endforeach()

# vmlinux.h is generated once, for every BPF object of the project.
set(LTRACK_VMLINUX_DIR ${PROJECT_BINARY_DIR}/bpf)
function(bpf_generate_vmlinux)
  set(out ${LTRACK_VMLINUX_DIR}/vmlinux.h)
  file(MAKE_DIRECTORY ${LTRACK_VMLINUX_DIR})
  add_custom_command(OUTPUT ${out}
    COMMAND ${BPFTOOL} btf dump file ${LTRACK_VMLINUX_BTF} format c > ${out}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${out}.tmp ${out}
    COMMENT "Generating vmlinux.h from ${LTRACK_VMLINUX_BTF}"
    VERBATIM)
  add_custom_target(vmlinux_h DEPENDS ${out})
endfunction()

# Per-source flags: BPF_CFLAGS_<stem> (e.g. BPF_CFLAGS_record for record.bpf.c).
function(bpf_object name)
  cmake_parse_arguments(ARG "" "" "SOURCES;HEADERS" ${ARGN})
  set(bindir ${CMAKE_CURRENT_BINARY_DIR})
  set(objs)
  set(deps)
  foreach(h ${ARG_HEADERS})
    list(APPEND deps ${CMAKE_CURRENT_SOURCE_DIR}/${h})
  endforeach()
  foreach(src ${ARG_SOURCES})
    get_filename_component(stem ${src} NAME_WE)
    set(obj ${bindir}/${stem}.o)
    add_custom_command(OUTPUT ${obj}
      COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall ${BPF_CFLAGS_${stem}}
              -I${LTRACK_VMLINUX_DIR} -I${PROJECT_SOURCE_DIR}/lsm -I${CMAKE_CURRENT_SOURCE_DIR} ${BPF_SYS_INCLUDES}
              -c ${CMAKE_CURRENT_SOURCE_DIR}/${src} -o ${obj}
      DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${src} ${deps} ${PROJECT_SOURCE_DIR}/lsm/abi.h ${LTRACK_VMLINUX_DIR}/vmlinux.h
      COMMENT "BPF ${src}"
      VERBATIM)
    list(APPEND objs ${obj})
  endforeach()
  set(linked ${bindir}/${name}.bpf.o)
  set(skel ${bindir}/${name}.skel.h)
  add_custom_command(OUTPUT ${linked} ${skel}
    COMMAND ${BPFTOOL} gen object ${linked} ${objs}
    COMMAND ${BPFTOOL} gen skeleton ${linked} name ${name} > ${skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
    DEPENDS ${objs}
    COMMENT "Linking ${name}.bpf.o and generating ${name}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel DEPENDS ${skel})
  add_dependencies(${name}_skel vmlinux_h) # vmlinux.h is made in the top directory
endfunction()
