package org.flowfiji.fiji;

/**
 * The macro options the Fiji tests use, shared by the SciJava test (options set Fiji's way) and the
 * ImageJ 1.x macro test (options read by the launchers): the same text must work in both.
 */
public final class MacroTexts {

    private MacroTexts() {}

    /** Options of Flow Train on Stack for a tiny, quick model written to {@code model}. */
    public static String train(String model) {
        return "architecture=Glow patch_size=16 levels=2 steps=2 hidden_channels=8 batch_size=4 iterations=20 "
                + "minutes=0 learning_rate=0.001 validation_fraction=0.25 seed=3 device=cpu model_file=[" + model + "] use_roi=false";
    }

    /** Options of Flow Sample: three 16 x 16 samples. */
    public static String sample(String model) {
        return "model_file=[" + model + "] count=3 width=16 height=16 temperature=0.7 seed=5";
    }

    /** Options of Flow Likelihood Map: exact map in nats with an overlay. */
    public static String map(String model) {
        return "model_file=[" + model + "] mode=exact units=nats show_overlay=true opacity=40 lut=Fire";
    }
}
