using BonStudio.Training.RL.Envs;

namespace BonStudio.Training.Tests.RL;

public class DeepSeaTests
{
    private static DeepSea Make(int n, bool deterministic = true, int mappingSeed = 0, ulong seed = 1) =>
        new(new DeepSeaConfig(n, deterministic, MappingSeed: mappingSeed), seed);

    [Fact]
    public void Always_going_right_reaches_the_treasure_with_return_0_99_in_N_steps()
    {
        var env = Make(8);
        var obs = env.Reset();
        Assert.Equal(1f, obs[0]);
        double ret = 0; int steps = 0;
        while (true)
        {
            var (r, c) = env.StateKey;
            Assert.Equal((steps, steps), (r, c)); // on the diagonal
            var step = env.Step(env.RightAction(r, c));
            ret += step.Reward; steps++;
            if (step.Done) { Assert.All(step.Observation, x => Assert.Equal(0f, x)); break; }
            Assert.Equal(1f, step.Observation[steps * 8 + steps]);
            Assert.Equal(1f, step.Observation.Sum());
        }
        Assert.Equal(8, steps);
        Assert.Equal(0.99, ret, 5);
        Assert.Equal(0.99, env.OptimalReturn, 10);
    }

    [Fact]
    public void Each_right_costs_0_01_over_N_and_left_is_free()
    {
        var env = Make(10);
        env.Reset();
        var right = env.Step(env.RightAction(0, 0));
        Assert.Equal(-0.001f, right.Reward, 6);
        Assert.Equal((1, 1), env.StateKey);
        var left = env.Step(1 - env.RightAction(1, 1));
        Assert.Equal(0f, left.Reward);
        Assert.Equal((2, 0), env.StateKey);
        var leftAtWall = env.Step(1 - env.RightAction(2, 0));
        Assert.Equal((3, 0), env.StateKey); // clipped at column 0
        Assert.Equal(0f, leftAtWall.Reward);
    }

    [Fact]
    public void Always_left_earns_nothing()
    {
        var env = Make(6);
        env.Reset();
        double ret = 0;
        for (int i = 0; i < 6; i++) { var (r, c) = env.StateKey; ret += env.Step(1 - env.RightAction(r, c)).Reward; }
        Assert.Equal(0.0, ret);
    }

    [Fact]
    public void The_action_mapping_is_seeded_per_cell_and_uses_both_meanings()
    {
        var a = Make(12, mappingSeed: 3); var b = Make(12, mappingSeed: 3); var c = Make(12, mappingSeed: 4);
        int ones = 0, differs = 0;
        for (int r = 0; r < 12; r++)
            for (int col = 0; col < 12; col++)
            {
                Assert.Equal(a.RightAction(r, col), b.RightAction(r, col));
                ones += a.RightAction(r, col);
                if (a.RightAction(r, col) != c.RightAction(r, col)) differs++;
            }
        Assert.InRange(ones, 40, 104);   // Binomial(144, 0.5): far outside ±5σ would mean no randomisation
        Assert.InRange(differs, 40, 104);
    }

    [Fact]
    public void Step_after_the_end_is_refused()
    {
        var env = Make(2);
        env.Reset(); env.Step(0); env.Step(0);
        Assert.Throws<InvalidOperationException>(() => env.Step(0));
    }

    [Fact]
    public void Stochastic_right_fails_with_probability_one_over_N()
    {
        const int n = 5, trials = 20_000;
        var env = Make(n, deterministic: false, seed: 7);
        int failures = 0;
        for (int t = 0; t < trials; t++)
        {
            env.Reset();
            env.Step(env.RightAction(0, 0));
            if (env.StateKey.Col == 0) failures++;
        }
        double p = (double)failures / trials, sd = Math.Sqrt(0.2 * 0.8 / trials);
        Assert.InRange(p, 0.2 - 5 * sd, 0.2 + 5 * sd);
    }

    [Fact]
    public void Stochastic_end_rewards_are_noisy_with_unit_variance()
    {
        const int n = 3, trials = 4000;
        var env = Make(n, deterministic: false, seed: 11);
        var lastRewards = new List<double>();
        for (int t = 0; t < trials; t++)
        {
            env.Reset();
            StepResult s = default;
            for (int i = 0; i < n; i++) { var (r, c) = env.StateKey; s = env.Step(1 - env.RightAction(r, c)); } // left: ends at column 0
            lastRewards.Add(s.Reward);
        }
        double mean = lastRewards.Average(), variance = lastRewards.Select(x => (x - mean) * (x - mean)).Average();
        Assert.InRange(mean, -0.1, 0.1);
        Assert.InRange(variance, 0.85, 1.15);
    }
}

public class SnapshotRestoreTests
{
    public static TheoryData<string, bool> Envs => new()
    {
        { "deepsea", false }, { "deepsea", true }, { "cartpole", false }, { "montezuma", false }, { "montezuma", true },
    };

    [Theory, MemberData(nameof(Envs))]
    public void Restore_reproduces_the_same_future_for_the_same_actions(string name, bool stochastic)
    {
        var env = EnvFactory.Create(name, 12, stochastic, seed: 5, mappingSeed: 2);
        var rng = new Random(3);
        env.Reset();
        for (int i = 0; i < 4; i++) env.Step(rng.Next(env.ActionCount));
        var snapshot = env.Snapshot();
        var actions = Enumerable.Range(0, 40).Select(_ => rng.Next(env.ActionCount)).ToArray();

        List<(float[] Obs, float Reward, bool Done)> Play()
        {
            var trace = new List<(float[], float, bool)>();
            foreach (var a in actions)
            {
                var s = env.Step(a);
                trace.Add((s.Observation, s.Reward, s.Done));
                if (s.Done) break;
            }
            return trace;
        }

        var first = Play();
        // Disturb the env (including its RNG) before restoring.
        env.Reset(); for (int i = 0; i < 3; i++) env.Step(rng.Next(env.ActionCount));
        env.Restore(snapshot);
        var second = Play();
        Assert.Equal(first.Count, second.Count);
        for (int i = 0; i < first.Count; i++)
        {
            Assert.Equal(first[i].Obs, second[i].Obs);
            Assert.Equal(first[i].Reward, second[i].Reward);
            Assert.Equal(first[i].Done, second[i].Done);
        }
    }

    [Fact]
    public void Restoring_another_environments_snapshot_is_refused()
    {
        var deepSea = EnvFactory.Create("deepsea", 5, false, 1, 0);
        var montezuma = EnvFactory.Create("montezuma", 0, false, 1, 0);
        montezuma.Reset();
        var ex = Assert.Throws<ArgumentException>(() => deepSea.Restore(montezuma.Snapshot()));
        Assert.Contains("DeepSea", ex.Message);
    }
}

public class MiniMontezumaTests
{
    // up, down, left, right
    private static IEnumerable<int> Repeat(int action, int times) => Enumerable.Repeat(action, times);

    [Fact]
    public void The_scripted_route_collects_key_opens_door_and_reaches_treasure_for_return_3()
    {
        var env = new MiniMontezuma(new MiniMontezumaConfig(), 1);
        env.Reset();
        var route = Repeat(3, 14)            // start (3,1) along the bridge to the key at (3,15)
            .Concat(Repeat(1, 4))            // down column 15 to (7,15)
            .Concat(Repeat(3, 5))            // through the gap into the hall to (7,20)
            .Concat(Repeat(0, 4))            // up to (3,20)
            .Concat(Repeat(3, 2))            // (3,21), then the door at (3,22): opens with the key
            .Concat(Repeat(3, 2))            // into the vault (3,23), (3,24)
            .Concat(Repeat(0, 1));           // treasure at (2,24)
        double ret = 0; bool done = false;
        foreach (var a in route) { Assert.False(done); var s = env.Step(a); ret += s.Reward; done = s.Done; }
        Assert.True(done);
        Assert.True(env.Solved);
        Assert.Equal(3.0, ret);
    }

    [Fact]
    public void Lava_ends_the_episode_and_the_locked_door_blocks()
    {
        var env = new MiniMontezuma(new MiniMontezumaConfig(), 1);
        env.Reset();
        foreach (var a in Repeat(3, 7)) env.Step(a); // onto the bridge at (3,8)
        var s = env.Step(0);                          // up into lava
        Assert.True(s.Done); Assert.False(s.Truncated); Assert.Equal(0f, s.Reward);
    }

    [Fact]
    public void A_random_policy_practically_never_reaches_the_treasure()
    {
        var env = new MiniMontezuma(new MiniMontezumaConfig(), 1);
        var rng = new Random(0);
        int solved = 0, keys = 0;
        for (int e = 0; e < 2000; e++)
        {
            env.Reset();
            double ret = 0;
            while (true) { var s = env.Step(rng.Next(4)); ret += s.Reward; if (s.Done) break; }
            if (env.Solved) solved++;
            if (ret >= 1) keys++;
        }
        Assert.Equal(0, solved);
        Assert.True(keys < 20, $"random policy took the key {keys} times in 2000 episodes");
    }
}

public class CartpoleSwingUpTests
{
    [Fact]
    public void Hanging_still_earns_nothing_and_the_episode_is_truncated_at_the_time_limit()
    {
        var env = new CartpoleSwingUp(new CartpoleSwingUpConfig(MaxSteps: 300), 1);
        var obs = env.Reset();
        Assert.True(obs[3] < -0.99); // cos θ ≈ -1: hanging down
        double ret = 0; StepResult s = default;
        for (int i = 0; i < 300; i++) { s = env.Step(1); ret += s.Reward; }
        Assert.Equal(0.0, ret);
        Assert.True(s.Done && s.Truncated);
    }

    [Fact]
    public void Pushing_costs_and_moves_the_cart()
    {
        var env = new CartpoleSwingUp(new CartpoleSwingUpConfig(), 1);
        var x0 = env.Reset()[0];
        StepResult s = default;
        for (int i = 0; i < 50; i++) s = env.Step(2);
        Assert.Equal(-0.01f, s.Reward, 5);
        Assert.True(s.Observation[0] > x0 + 0.05, "pushing right moves the cart right");
    }
}

public class MiniMontezumaTimeLimitTests
{
    [Fact]
    public void A_restored_state_gets_a_fresh_time_budget()
    {
        var env = new MiniMontezuma(new MiniMontezumaConfig(MaxSteps: 10), 1);
        env.Reset();
        for (int i = 0; i < 9; i++) env.Step(1); // bump into the bottom wall region, staying alive
        var late = env.Snapshot();
        Assert.True(env.Step(1).Truncated);       // the 10th step hits the limit
        env.Restore(late);
        for (int i = 0; i < 9; i++) Assert.False(env.Step(1).Done);
        Assert.True(env.Step(1).Truncated);
    }
}
