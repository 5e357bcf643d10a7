using BonStudio.Training.Runtime;

namespace BonStudio.Training.Tests;

public class CodeVersionTests
{
    [Fact]
    public void The_library_knows_the_git_commit_it_was_built_from()
    {
        // Tests run from a git checkout (CI clones the repository), so the stamp must be a real commit id.
        Assert.Matches("^[0-9a-f]{40}$", CodeVersion.Commit);
        Assert.StartsWith(CodeVersion.Commit, CodeVersion.Describe());
        Assert.Equal(CodeVersion.Dirty, CodeVersion.Describe().EndsWith("+dirty"));
    }
}
