# Warnings for every target of this project: added to an INTERFACE target that
# each of our targets links, so third-party code is not affected.
add_library(apitoken_warnings INTERFACE)
target_compile_options(apitoken_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(APITOKEN_WERROR)
  target_compile_options(apitoken_warnings INTERFACE -Werror)
endif()
