package org.flowfiji.fiji;

import ij.measure.ResultsTable;
import ij.plugin.filter.Analyzer;
import java.util.List;
import org.flowfiji.ops.MapResult;
import org.flowfiji.ops.MapSettings;
import org.flowfiji.ops.TrainResult;
import org.flowfiji.ops.TrainSettings;

/**
 * The Results tables the commands end with. Column names are macro-friendly (read them with
 * {@code getResult("bits_per_dim", row)}).
 */
public final class ResultTables {

    /** Title under which the tables are shown: ImageJ's system Results table, readable from macros. */
    public static final String TITLE = "Results";

    private ResultTables() {}

    /** One row describing a finished training run. */
    public static ResultsTable training(TrainResult r, TrainSettings s) {
        ResultsTable t = new ResultsTable();
        t.showRowNumbers(false);
        t.incrementCounter();
        t.addValue("model_file", r.modelFile() == null ? "" : r.modelFile().toString());
        t.addValue("architecture", s.architecture().label());
        t.addValue("patch_size", s.patchSize());
        t.addValue("iterations", r.iterations());
        t.addValue("seconds", r.seconds());
        t.addValue("patches_per_second", r.patchesPerSecond());
        t.addValue("train_bits_per_dim", r.trainBitsPerDim());
        t.addValue("validation_bits_per_dim", r.validationBitsPerDim());
        t.addValue("stopped_early", r.stoppedEarly() ? 1 : 0);
        return t;
    }

    /**
     * One row per plane of a likelihood map: the plane's position, log p in nats, bits/dim and the sum of
     * the map plane in the map's units.
     */
    public static ResultsTable likelihood(MapResult r, MapSettings s, int slices, int frames, String image) {
        ResultsTable t = new ResultsTable();
        t.showRowNumbers(false);
        t.setPrecision(6);
        List<Double> logp = r.logLikelihoodNats();
        for (int p = 0; p < logp.size(); p++) {
            t.incrementCounter();
            t.addValue("image", image);
            t.addValue("plane", p + 1);
            t.addValue("slice", slices > 0 ? p % slices + 1 : p + 1);
            t.addValue("frame", slices > 0 ? p / slices + 1 : 1);
            t.addValue("log_p_nats", logp.get(p));
            t.addValue("bits_per_dim", r.bitsPerDim().get(p));
            t.addValue("map_sum", r.mapSumNats().get(p) * (s.units() == MapSettings.Units.BITS ? 1 / Math.log(2) : 1));
            t.addValue("map_units", s.units() == MapSettings.Units.BITS ? "bits" : "nats");
        }
        return t;
    }

    /**
     * Makes {@code table} ImageJ's system Results table, so macros read it with {@code nResults},
     * {@code getResult} and {@code saveAs("Results", path)}, also in batch mode and headless; in an
     * interactive session it is shown in the Results window.
     */
    public static void publish(ResultsTable table) {
        Analyzer.setResultsTable(table);
        if (UiMode.current().showsWindows()) table.show(TITLE);
    }
}
