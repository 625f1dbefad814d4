# ASan+UBSan for the whole build (the test command runs the suite once more
# this way). Applied globally so that every object, tests included, is
# instrumented the same way.
if(APITOKEN_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
