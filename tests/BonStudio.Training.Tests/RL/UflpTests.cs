using BonStudio.Training.RL;
using BonStudio.Training.RL.Envs;
using BonStudio.Training.RL.Uncertainty;

namespace BonStudio.Training.Tests.RL;

public class UflpTests
{
    private static (DeepSea Env, ApproxCounts Counts, List<(EnvSnapshot Snap, float[] Obs, (int, int) Key)> States) Visited()
    {
        // Walk a Deep Sea along fixed paths; visit counts differ by state and action.
        var env = new DeepSea(new DeepSeaConfig(6), 1);
        var counts = new ApproxCounts(new ApproxCountsConfig(), env.ActionCount);
        var states = new List<(EnvSnapshot, float[], (int, int))>();
        var rng = new Random(4);
        for (int e = 0; e < 30; e++)
        {
            var obs = env.Reset();
            for (int t = 0; t < 6; t++)
            {
                states.Add((env.Snapshot(), obs, env.StateKey));
                int a = e % 5 == 0 ? rng.Next(2) : 0; // mostly action 0
                counts.Observe(obs, a);
                var s = env.Step(a);
                obs = s.Observation;
            }
        }
        return (env, counts, states);
    }

    [Fact]
    public void State_action_selection_picks_the_argmax_of_u_over_the_batch_and_actions()
    {
        var (_, counts, states) = Visited();
        var uflp = new Uflp(new UflpConfig { PInit = 0 }, counts, 2, new Random(1));
        var batch = states.Take(40).Select(s => new HistoryBuffer.Entry(s.Snap, s.Obs, s.Key, HistoryBuffer.Hash(s.Obs))).ToList();
        var start = uflp.SelectFrom(batch);

        var u = counts.StateAction(batch.Select(b => b.Observation).ToList());
        int arg = Array.IndexOf(u, u.Max());
        Assert.False(start.FromInitial);
        Assert.Equal(u.Max(), start.Uncertainty, 6);
        Assert.Equal(batch[arg / 2].StateKey, start.StateKey);
        Assert.Equal(arg % 2, start.FirstAction);
        Assert.Same(batch[arg / 2].Snapshot, start.Snapshot);
    }

    [Fact]
    public void State_selection_picks_the_argmax_of_u_s()
    {
        var (_, counts, states) = Visited();
        var uflp = new Uflp(new UflpConfig { PInit = 0, Selection = UflpSelection.State }, counts, 2, new Random(1));
        var batch = states.Select(s => new HistoryBuffer.Entry(s.Snap, s.Obs, s.Key, HistoryBuffer.Hash(s.Obs))).ToList();
        var start = uflp.SelectFrom(batch);
        var u = counts.State(batch.Select(b => b.Observation).ToList());
        Assert.Equal(u.Max(), start.Uncertainty, 6);
        Assert.Equal(batch[Array.IndexOf(u, u.Max())].StateKey, start.StateKey);
    }

    [Fact]
    public void With_B_all_the_start_is_the_most_uncertain_state_in_the_whole_history()
    {
        var (_, counts, states) = Visited();
        var uflp = new Uflp(new UflpConfig { PInit = 0, BatchSize = 0 }, counts, 2, new Random(1));
        foreach (var s in states) uflp.History.Add(s.Snap, s.Obs, s.Key);
        var start = uflp.ChooseStart();
        var all = counts.StateAction(states.Select(s => s.Obs).ToList());
        Assert.Equal(all.Max(), start.Uncertainty, 6);
        Assert.True(uflp.History.DistinctCount < uflp.History.Count);
    }

    [Fact]
    public void P_init_one_always_starts_from_the_initial_distribution_and_an_empty_history_too()
    {
        var counts = new ApproxCounts(new ApproxCountsConfig(), 2);
        var empty = new Uflp(new UflpConfig { PInit = 0 }, counts, 2, new Random(1));
        Assert.True(empty.ChooseStart().FromInitial);
        var (_, _, states) = Visited();
        var online = new Uflp(new UflpConfig { PInit = 1 }, counts, 2, new Random(1));
        foreach (var s in states) online.History.Add(s.Snap, s.Obs, s.Key);
        Assert.All(Enumerable.Range(0, 50), _ => Assert.True(online.ChooseStart().FromInitial));
    }

    [Fact]
    public void History_is_a_FIFO_of_its_capacity_and_tracks_distinct_states()
    {
        var env = new DeepSea(new DeepSeaConfig(4), 1);
        var h = new HistoryBuffer(3);
        var obs = new List<float[]>();
        env.Reset();
        for (int i = 0; i < 4; i++) { obs.Add(env.Observation()); h.Add(env.Snapshot(), obs[^1], env.StateKey); if (i < 3) env.Step(0); }
        Assert.Equal(3, h.Count);
        Assert.Equal(obs[1], h[0].Observation); // the oldest was evicted
        Assert.Equal(obs[3], h[2].Observation);
        h.Add(env.Snapshot(), obs[3], env.StateKey);
        Assert.Equal(2, h.DistinctCount);
    }

    [Fact]
    public void With_B_one_the_start_is_a_uniform_draw_from_the_history_not_the_most_uncertain_state()
    {
        // H: the start cell 60 times (visited in every episode: low u) interleaved with 60 entries of deeper cells.
        var (_, counts, states) = Visited();
        var uflp = new Uflp(new UflpConfig { PInit = 0, BatchSize = 1 }, counts, 2, new Random(7));
        var start = states[0];
        var deep = states.Where(s => s.Key.Item1 > 0).Take(60).ToList();
        for (int i = 0; i < 60; i++) { uflp.History.Add(start.Snap, start.Obs, start.Key); uflp.History.Add(deep[i].Snap, deep[i].Obs, deep[i].Key); }
        var argmaxAll = new Uflp(new UflpConfig { PInit = 0, BatchSize = 0 }, counts, 2, new Random(7));
        foreach (var e in Enumerable.Range(0, uflp.History.Count).Select(i => uflp.History[i])) argmaxAll.History.Add(e.Snapshot, e.Observation, e.StateKey);
        Assert.NotEqual(start.Key, argmaxAll.ChooseStart().StateKey); // B = all never picks the over-visited start cell

        int fromStart = Enumerable.Range(0, 400).Count(_ => uflp.ChooseStart() is { FromInitial: false } s && s.StateKey == start.Key);
        Assert.InRange(fromStart, 140, 260); // half of H is the start cell: a uniform draw lands there ~200 of 400 times
    }
}
