# bpf_object(NAME SOURCE)
#   Compiles bpf/SOURCE with clang -target bpf (depfile tracked) and generates a
#   libbpf skeleton with bpftool. Produces an INTERFACE target NAME_skel whose
#   include directory holds NAME.skel.h, so the daemon embeds the object and no
#   .o path is needed at run time.
find_program(BPF_CLANG NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

execute_process(COMMAND ${CMAKE_C_COMPILER} -print-multiarch
                OUTPUT_VARIABLE BPF_MULTIARCH OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET)
if(NOT BPF_MULTIARCH)
  set(BPF_MULTIARCH x86_64-linux-gnu)
endif()

function(bpf_object name source)
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/${name})
  set(obj ${out_dir}/${name}.bpf.o)
  set(skel ${out_dir}/${name}.skel.h)
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/${source})
  file(MAKE_DIRECTORY ${out_dir})
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_x86
            -Wall -Werror
            -I${CMAKE_CURRENT_SOURCE_DIR}
            -I/usr/include/${BPF_MULTIARCH}
            -MD -MF ${obj}.d
            -c ${src} -o ${obj}
    DEPFILE ${obj}.d
    DEPENDS ${src}
    COMMENT "BPF ${source}"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}
    DEPENDS ${obj}
    COMMENT "skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS ${skel})
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel INTERFACE ${out_dir} ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${name}_skel INTERFACE PkgConfig::LIBBPF)
  set_property(TARGET ${name}_skel PROPERTY BPF_OBJECT ${obj})
endfunction()
