package org.flowfiji.ij1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.flowfiji.fiji.FlowLikelihoodMapCommand;
import org.flowfiji.fiji.FlowSampleCommand;
import org.flowfiji.fiji.FlowTrainCommand;
import org.junit.jupiter.api.Test;
import org.scijava.command.CommandInfo;

/** Macro options are read with the keys of the contract, converted to the parameters' types, and written back. */
class MacroOptionsTest {

    private static final CommandInfo TRAIN = new CommandInfo(FlowTrainCommand.class);
    private static final CommandInfo SAMPLE = new CommandInfo(FlowSampleCommand.class);
    private static final CommandInfo MAP = new CommandInfo(FlowLikelihoodMapCommand.class);

    @Test
    void readsTheIssueExample() {
        Map<String, Object> v = MacroOptions.parse(SAMPLE, "model_file=[/data/nuclei.flow] count=16 temperature=0.7 seed=1");
        assertEquals(new File("/data/nuclei.flow"), v.get("model_file"));
        assertEquals(16, v.get("count"));
        assertEquals(0.7, v.get("temperature"));
        assertEquals(1L, v.get("seed"));
        assertEquals(Set.of("model_file", "count", "temperature", "seed"), v.keySet(), "absent keys keep the defaults");
    }

    @Test
    void readsEveryTrainingKey() {
        String options = "architecture=realnvp patch_size=16 levels=2 steps=3 hidden_channels=24 batch_size=8 "
                + "iterations=20 minutes=1.5 learning_rate=0.0005 validation_fraction=0.2 seed=7 device=cpu "
                + "model_file=[/tmp/my models/a.flow] use_roi continue_from=/tmp/b.flow teacher_model=[]";
        Map<String, Object> v = MacroOptions.parse(TRAIN, options);
        assertEquals("RealNVP", v.get("architecture"), "choices match in any case and come back canonical");
        assertEquals(16, v.get("patch_size"));
        assertEquals(2, v.get("levels"));
        assertEquals(3, v.get("steps"));
        assertEquals(24, v.get("hidden_channels"));
        assertEquals(8, v.get("batch_size"));
        assertEquals(20, v.get("iterations"));
        assertEquals(1.5, v.get("minutes"));
        assertEquals(0.0005, v.get("learning_rate"));
        assertEquals(0.2, v.get("validation_fraction"));
        assertEquals(7L, v.get("seed"));
        assertEquals("cpu", v.get("device"));
        assertEquals(new File("/tmp/my models/a.flow"), v.get("model_file"));
        assertEquals(Boolean.TRUE, v.get("use_roi"), "a bare key is a ticked checkbox");
        assertEquals(new File("/tmp/b.flow"), v.get("continue_from"));
        assertTrue(v.containsKey("teacher_model"));
        assertEquals(null, v.get("teacher_model"), "an empty file value means none");
    }

    @Test
    void booleansTakeTrueOrFalse() {
        assertEquals(Boolean.FALSE, MacroOptions.parse(MAP, "model_file=m.flow show_overlay=false").get("show_overlay"));
        assertEquals(Boolean.TRUE, MacroOptions.parse(MAP, "model_file=m.flow show_overlay=true").get("show_overlay"));
        assertFalse(MacroOptions.parse(MAP, "model_file=m.flow").containsKey("show_overlay"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MacroOptions.parse(MAP, "show_overlay=maybe"));
        assertEquals("show_overlay=maybe must be true or false", e.getMessage());
    }

    @Test
    void mapKeysAndImageTitle() {
        Map<String, Object> v = MacroOptions.parse(MAP,
                "image=[cells 1.tif] model_file=m.flow mode=WINDOW reference_model=r.flow units=bits show_overlay opacity=35 lut=ice");
        assertEquals("cells 1.tif", v.get(MacroOptions.IMAGE_KEY));
        assertEquals("window", v.get("mode"));
        assertEquals(new File("r.flow"), v.get("reference_model"));
        assertEquals("bits", v.get("units"));
        assertEquals(Boolean.TRUE, v.get("show_overlay"));
        assertEquals(35.0, v.get("opacity"));
        assertEquals("Ice", v.get("lut"));
    }

    @Test
    void refusesUnknownKeysNamingTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MacroOptions.parse(SAMPLE, "model_file=m.flow iteration=20"));
        assertTrue(e.getMessage().startsWith("Unknown option 'iteration' for Flow Sample"), e.getMessage());
        assertTrue(e.getMessage().contains("count"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MacroOptions.parse(SAMPLE, "image=[x] count=2"),
                "Flow Sample takes no image");
    }

    @Test
    void refusesBadValuesWithTheKey() {
        assertEquals("count=many is not a number",
                assertThrows(IllegalArgumentException.class, () -> MacroOptions.parse(SAMPLE, "count=many")).getMessage());
        assertEquals("count=2.5 must be a whole number",
                assertThrows(IllegalArgumentException.class, () -> MacroOptions.parse(SAMPLE, "count=2.5")).getMessage());
        assertEquals("architecture=PixelCNN is not one of RealNVP, Glow, IAF",
                assertThrows(IllegalArgumentException.class, () -> MacroOptions.parse(TRAIN, "architecture=PixelCNN")).getMessage());
    }

    @Test
    void keyMatchingDoesNotConfuseModeWithModelFile() {
        Map<String, Object> v = MacroOptions.parse(MAP, "model_file=[/a/mode=x.flow]");
        assertEquals(new File("/a/mode=x.flow"), v.get("model_file"));
        assertFalse(v.containsKey("mode"));
    }

    @Test
    void formatWritesWhatParseReads() {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("architecture", "IAF");
        values.put("patch_size", 16);
        values.put("learning_rate", 1e-4);
        values.put("minutes", 0.0);
        values.put("seed", 3L);
        values.put("model_file", new File("/tmp/with space/m.flow"));
        values.put("use_roi", false);
        values.put("continue_from", null);
        String text = MacroOptions.format(values);
        assertEquals("architecture=IAF patch_size=16 learning_rate=1.0E-4 minutes=0 seed=3 model_file=[/tmp/with space/m.flow] use_roi=false", text);
        Map<String, Object> back = MacroOptions.parse(TRAIN, text);
        values.remove("continue_from");
        assertEquals(values, back);
    }

    @Test
    void keysIgnoreBracketedValues() {
        assertEquals(List.of("a", "b", "c"), List.copyOf(MacroOptions.keys("a=[x y=z] b c=1 ")));
    }
}
