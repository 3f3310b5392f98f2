package org.flowfiji.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.ImagePlus;
import java.io.File;
import java.util.HashMap;
import java.util.Map;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scijava.Context;
import org.scijava.app.StatusService;
import org.scijava.app.event.StatusEvent;
import org.scijava.command.CommandModule;
import org.scijava.command.CommandService;
import org.scijava.event.EventHandler;
import org.scijava.event.EventService;
import org.scijava.log.LogService;
import org.scijava.module.Module;
import org.scijava.module.ModuleService;

/** Cancelling a running training stops it promptly and leaves the previous model file as it was. */
class TrainingCancelTest {

    @TempDir
    Path dir;

    /** Counts down when the training reports its first iterations on the status bar. */
    public static final class IterationWatcher {
        final CountDownLatch started = new CountDownLatch(1);

        @EventHandler
        public void onEvent(StatusEvent e) {
            String m = e.getStatusMessage();
            if (m != null && m.startsWith("Flow training: iteration")) started.countDown();
        }
    }

    @Test
    void cancelReturnsPromptlyAndKeepsThePreviousModel() throws Exception {
        try (Context context = new Context(CommandService.class, StatusService.class, LogService.class)) {
            Path model = dir.resolve("cells.flow");
            Files.writeString(model, "the previous model");
            ImagePlus image = TestImages.blobs16(32, 6, 2);

            ModuleService modules = context.service(ModuleService.class);
            CommandModule module = (CommandModule) modules.createModule(
                    context.service(CommandService.class).getCommand(FlowTrainCommand.class));
            Map<String, Object> inputs = new HashMap<>();
            inputs.put("image", image);
            inputs.put("architecture", "Glow");
            inputs.put("patch_size", 16);
            inputs.put("steps", 2);
            inputs.put("hidden_channels", 8);
            inputs.put("batch_size", 4);
            inputs.put("iterations", 1_000_000);
            inputs.put("device", "cpu");
            inputs.put("model_file", new File(model.toString()));
            IterationWatcher watcher = new IterationWatcher();
            context.service(EventService.class).subscribe(watcher);

            Future<Module> run = modules.run(module, true, inputs);
            for (int i = 0; i < 1800 && !run.isDone() && watcher.started.getCount() > 0; i++) Thread.sleep(100);
            assertFalse(run.isDone(), "training is running: " + module.getCancelReason());
            assertEquals(0, watcher.started.getCount(), "training reported its first iterations");
            long t0 = System.nanoTime();
            module.cancel("test");
            run.get(60, TimeUnit.SECONDS);
            double seconds = (System.nanoTime() - t0) / 1e9;

            assertTrue(seconds < 30, "stopped " + seconds + " s after cancel");
            assertTrue(module.isCanceled());
            assertFalse(((FlowCommand) module.getCommand()).hasFailed(), "a stop is not a failure");
            assertEquals("the previous model", Files.readString(model), "the model file was not touched");
            try (Stream<Path> files = Files.list(dir)) {
                assertEquals(1, files.count(), "no checkpoint or temporary file left behind");
            }
        }
    }
}
