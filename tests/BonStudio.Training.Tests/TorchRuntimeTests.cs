using System.Runtime.InteropServices;
using BonStudio.Training.Runtime;

namespace BonStudio.Training.Tests;

public class TorchRuntimeTests
{
    // The first lines of the error TorchSharp 0.107 raised in session 4's study (Gpt.Forward inside the sampler).
    private const string PrematureScalarFree =
        "Expected false to be true, but got false.  (Could this error message be improved?  If so, please report an enhancement request to PyTorch.)\n" +
        "Exception raised from toFloat at /pytorch/c10/core/Scalar.h:140 (most recent call first):\n" +
        "frame #0: c10::Error::Error(c10::SourceLocation, std::__cxx11::basic_string<char> >) + 0xb0 (0x7f5da51881a0 in libc10.so)";

    [Fact]
    public void The_premature_Scalar_free_is_recognised_and_nothing_else_is()
    {
        Assert.True(TorchRuntime.IsPrematureScalarFree(new ExternalException(PrematureScalarFree)));
        // Another libtorch error, and the same text from managed code, are real failures.
        Assert.False(TorchRuntime.IsPrematureScalarFree(new ExternalException(
            "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1\nException raised from infer_size_impl at /pytorch/aten/src/ATen/ExpandUtils.cpp:31")));
        Assert.False(TorchRuntime.IsPrematureScalarFree(new InvalidOperationException(PrematureScalarFree)));
    }
}
