# Man pages generated at build time by help2man from the built binaries'
# --help and --version, plus hand-written sections (DESCRIPTION detail, FILES,
# SIGNALS, EXIT STATUS, EXAMPLES, SEE ALSO) from dist/man/<binary>.h2m.
# Installed gzipped to share/man/man<section>. Without help2man (Debian
# package help2man, installed by ci/setup.sh) the build has no man pages and
# says so; the package test then fails on the missing pages.
find_program(HELP2MAN help2man)
find_program(GZIP gzip REQUIRED)
if(NOT HELP2MAN)
  message(WARNING "help2man not found: no man pages (apt-get install help2man)")
endif()

# fpm_man_page(<executable target> <section>)
function(fpm_man_page target section)
  # Sanitizer and fuzz builds are for tests, never packaged: no pages there
  # (and help2man would run instrumented binaries).
  if(NOT HELP2MAN OR FPM_SINK_SANITIZE OR FPM_SINK_FUZZ)
    return()
  endif()
  set(include ${PROJECT_SOURCE_DIR}/dist/man/${target}.h2m)
  set(page ${PROJECT_BINARY_DIR}/man/${target}.${section})
  add_custom_command(
    OUTPUT ${page}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    # --no-info: Debian has no info pages for this; -n gzip: no timestamp in the
    # archive, so the same page gives the same bytes.
    COMMAND ${HELP2MAN} --no-info --section=${section} --include=${include}
            --output=${page} $<TARGET_FILE:${target}>
    COMMAND ${GZIP} -9nf ${page}
    DEPENDS ${target} ${include}
    COMMENT "help2man: ${target}(${section})"
    VERBATIM)
  add_custom_target(man-${target} ALL DEPENDS ${page}.gz)
  install(FILES ${page}.gz DESTINATION share/man/man${section})
endfunction()
