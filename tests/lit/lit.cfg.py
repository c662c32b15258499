import os
import lit.formats

config.name = "nyx"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".nyx", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.nyx_obj_root, "tests", "lit")

config.environment["PATH"] = os.pathsep.join(
    [config.nyx_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
config.substitutions.append(("%nyxc", os.path.join(config.nyx_tools_dir, "nyxc")))
config.substitutions.append(("%nyx-opt", os.path.join(config.nyx_tools_dir, "nyx-opt")))
config.substitutions.append(("%nyx-run", os.path.join(config.nyx_tools_dir, "nyx-run")))
# Debian's interpreter, which has the onnx and numpy packages.
config.substitutions.append(("%nyx_build", config.nyx_obj_root))
config.substitutions.append(("%python", "/usr/bin/python3"))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))

# The CUDA toolkit's libdevice and NVRTC: GPU math functions and custom_cuda
# need them (docs/cuda.md); everything else builds and tests without.
cuda = os.environ.get("NYX_CUDA_PATH", "/usr/local/cuda")
if os.path.exists(os.path.join(cuda, "nvvm", "libdevice", "libdevice.10.bc")) \
        and os.path.exists(os.path.join(cuda, "lib64", "libnvrtc.so")):
    config.available_features.add("cuda-toolkit")
