# The runner's layering: each folder of runner/ is one layer, and a file may include only its own
# folder's headers and those of layers below it. A cycle between folders is therefore an upward
# include somewhere, and this check names it.
#
# Used two ways:
#  - include()d by runner/CMakeLists.txt: matih_check_runner_layering(<dir> <layers> <out_var>)
#    sets <out_var> to one line per offending include (empty when clean); configure then fails.
#  - as a script, for ctest: cmake -DRUNNER_DIR=<dir> "-DLAYERS=common;model;..." -P <this file>
#    prints the same lines and exits non-zero when there are any.
#
# Checked: every "#include "<folder>/..."" line whose <folder> is a folder of <dir>, and every
# folder of <dir> holding C++ sources must be among the layers (a new folder is declared, never
# silently unchecked). Files at the top of <dir> (main.cc) sit above every layer.

function(matih_check_runner_layering dir layers out_var)
  set(_problems "")
  file(GLOB _entries LIST_DIRECTORIES true RELATIVE ${dir} ${dir}/*)
  set(_folders "")
  foreach(_entry ${_entries})
    if(IS_DIRECTORY ${dir}/${_entry})
      file(GLOB_RECURSE _sources ${dir}/${_entry}/*.h ${dir}/${_entry}/*.cc)
      if(_sources)
        list(APPEND _folders ${_entry})
        list(FIND layers ${_entry} _index)
        if(_index EQUAL -1)
          list(APPEND _problems "runner/${_entry}/ is not a declared layer (add it to MATIH_RUNNER_LAYERS in runner/CMakeLists.txt)")
        endif()
      endif()
    endif()
  endforeach()

  list(LENGTH layers _count)
  math(EXPR _last "${_count} - 1")
  foreach(_i RANGE ${_last})
    list(GET layers ${_i} _layer)
    if(NOT IS_DIRECTORY ${dir}/${_layer})
      continue()
    endif()
    file(GLOB_RECURSE _files RELATIVE ${dir} ${dir}/${_layer}/*.h ${dir}/${_layer}/*.cc ${dir}/${_layer}/*.in)
    list(SORT _files)
    foreach(_file ${_files})
      file(STRINGS ${dir}/${_file} _lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"[A-Za-z0-9_]+/")
      foreach(_line ${_lines})
        string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([A-Za-z0-9_]+)/([^\"]*)\".*$" "\\1" _target "${_line}")
        string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\".*$" "\\1" _header "${_line}")
        list(FIND _folders ${_target} _is_folder)
        if(_is_folder EQUAL -1)
          continue()  # not a runner folder (an SDK or generated header)
        endif()
        list(FIND layers ${_target} _j)
        if(_j GREATER _i)
          list(APPEND _problems
               "runner/${_file} includes \"${_header}\": ${_layer}/ may include only ${_layer}/ and the layers below it, not ${_target}/")
        endif()
      endforeach()
    endforeach()
  endforeach()
  set(${out_var} "${_problems}" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE AND CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  if(NOT RUNNER_DIR OR NOT LAYERS)
    message(FATAL_ERROR "usage: cmake -DRUNNER_DIR=<dir> \"-DLAYERS=common;model;...\" -P runner_layering.cmake")
  endif()
  matih_check_runner_layering(${RUNNER_DIR} "${LAYERS}" _problems)
  if(_problems)
    string(REPLACE ";" "\n  " _text "${_problems}")
    message(FATAL_ERROR "runner layering violated (order, lowest first: ${LAYERS}):\n  ${_text}")
  endif()
  message(STATUS "runner layering: clean (${LAYERS})")
endif()
