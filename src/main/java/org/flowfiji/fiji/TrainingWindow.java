package org.flowfiji.fiji;

import java.awt.BorderLayout;
import java.awt.FlowLayout;
import java.awt.event.WindowAdapter;
import java.awt.event.WindowEvent;
import java.io.File;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import javax.swing.BorderFactory;
import javax.swing.JButton;
import javax.swing.JFileChooser;
import javax.swing.JFrame;
import javax.swing.JLabel;
import javax.swing.JOptionPane;
import javax.swing.JPanel;
import javax.swing.JProgressBar;
import javax.swing.SwingUtilities;
import javax.swing.WindowConstants;
import javax.swing.filechooser.FileNameExtensionFilter;
import org.flowfiji.ops.Cancellation;
import org.flowfiji.ops.TrainResult;
import org.flowfiji.ops.TrainSettings;
import org.flowfiji.ops.TrainingListener;

/**
 * The interactive training window: a live plot of training and validation bits/dim, a progress bar with
 * the time left, and three buttons. <b>Stop</b> cancels and discards the model; <b>Finish</b> ends training
 * now and keeps the best model so far; <b>Save Model...</b> (once training has ended) copies the model
 * file elsewhere. Closing the window while training asks whether to stop.
 *
 * <p>Only created in interactive sessions ({@link UiMode#INTERACTIVE}); every Swing call runs on the
 * event dispatch thread, listener calls may come from the training thread.
 */
public final class TrainingWindow implements TrainingListener {

    private static final long REPAINT_INTERVAL_NANOS = 100_000_000L;

    private final JFrame frame;
    private final LossPlot plot;
    private final JProgressBar progress;
    private final JLabel info;
    private final JButton stop;
    private final JButton finish;
    private final JButton save;
    private final Cancellation cancellation;
    private volatile boolean running = true;
    private volatile Path modelFile;
    private long lastRepaint;

    private TrainingWindow(String imageTitle, TrainSettings settings, Cancellation cancellation) {
        this.cancellation = cancellation;
        frame = new JFrame("Flow Training: " + settings.architecture().label() + " on " + imageTitle);
        plot = new LossPlot(settings.iterations() > 0 ? settings.iterations() : 100);
        progress = new JProgressBar(0, 1000);
        progress.setStringPainted(true);
        progress.setString("starting...");
        info = new JLabel("Model: " + settings.modelFile());
        stop = new JButton("Stop");
        stop.setToolTipText("Stop now and discard the model");
        finish = new JButton("Finish");
        finish.setToolTipText("Stop now and keep the best model so far");
        save = new JButton("Save Model...");
        save.setToolTipText("Save a copy of the trained model");
        save.setEnabled(false);
        stop.addActionListener(e -> stopRequested());
        finish.addActionListener(e -> {
            cancellation.finish();
            finish.setEnabled(false);
            progress.setString("finishing: keeping the best model so far...");
        });
        save.addActionListener(e -> saveCopy());

        JPanel south = new JPanel(new BorderLayout(6, 6));
        south.setBorder(BorderFactory.createEmptyBorder(6, 8, 8, 8));
        JPanel bars = new JPanel(new BorderLayout(4, 4));
        bars.add(progress, BorderLayout.NORTH);
        bars.add(info, BorderLayout.SOUTH);
        south.add(bars, BorderLayout.CENTER);
        JPanel buttons = new JPanel(new FlowLayout(FlowLayout.RIGHT, 6, 0));
        buttons.add(stop);
        buttons.add(finish);
        buttons.add(save);
        south.add(buttons, BorderLayout.SOUTH);

        frame.getContentPane().add(plot, BorderLayout.CENTER);
        frame.getContentPane().add(south, BorderLayout.SOUTH);
        frame.setDefaultCloseOperation(WindowConstants.DO_NOTHING_ON_CLOSE);
        frame.addWindowListener(new WindowAdapter() {
            @Override
            public void windowClosing(WindowEvent e) {
                if (!running) frame.dispose();
                else if (JOptionPane.showConfirmDialog(frame, "Stop training and discard the model?", "Flow Training",
                        JOptionPane.YES_NO_OPTION) == JOptionPane.YES_OPTION) {
                    stopRequested();
                    frame.dispose();
                }
            }
        });
        frame.pack();
        frame.setLocationByPlatform(true);
    }

    /** Creates and shows a training window on the event dispatch thread. */
    static TrainingWindow open(String imageTitle, TrainSettings settings, Cancellation cancellation) {
        TrainingWindow[] w = new TrainingWindow[1];
        onEdt(() -> {
            w[0] = new TrainingWindow(imageTitle, settings, cancellation);
            w[0].frame.setVisible(true);
        });
        return w[0];
    }

    /** A listener forwarding every call to {@code first}, then to {@code second}. */
    static TrainingListener both(TrainingListener first, TrainingListener second) {
        return new TrainingListener() {
            @Override
            public void onIteration(TrainingStatus s) {
                first.onIteration(s);
                second.onIteration(s);
            }

            @Override
            public void onValidation(TrainingStatus s) {
                first.onValidation(s);
                second.onValidation(s);
            }

            @Override
            public void onMessage(String message) {
                first.onMessage(message);
                second.onMessage(message);
            }
        };
    }

    @Override
    public void onIteration(TrainingStatus s) {
        plot.addTrain(s.iteration(), s.trainBitsPerDim());
        long now = System.nanoTime();
        if (now - lastRepaint < REPAINT_INTERVAL_NANOS) return;
        lastRepaint = now;
        update(s);
    }

    @Override
    public void onValidation(TrainingStatus s) {
        plot.addValidation(s.iteration(), s.validationBitsPerDim());
        update(s);
    }

    @Override
    public void onMessage(String message) {
        SwingUtilities.invokeLater(() -> info.setText(message));
    }

    private void update(TrainingStatus s) {
        double fraction = s.totalIterations() > 0 ? (double) s.iteration() / s.totalIterations()
                : s.elapsedSeconds() / Math.max(1e-9, s.elapsedSeconds() + s.remainingSeconds());
        String text = (s.totalIterations() > 0 ? "iteration " + s.iteration() + " / " + s.totalIterations()
                : "iteration " + s.iteration()) + "  -  " + TrainingLogger.formatDuration(s.remainingSeconds()) + " left";
        String detail = String.format("training %.4f bits/dim", s.trainBitsPerDim())
                + (Double.isFinite(s.validationBitsPerDim()) ? String.format(", validation %.4f bits/dim", s.validationBitsPerDim()) : "")
                + ", elapsed " + TrainingLogger.formatDuration(s.elapsedSeconds());
        SwingUtilities.invokeLater(() -> {
            if (running && !cancellation.isFinishRequested()) progress.setString(text);
            progress.setValue((int) Math.round(Math.min(1, Math.max(0, fraction)) * 1000));
            info.setText(detail);
            plot.repaint();
        });
    }

    /** Training ended with a model: enable Save Model and show the summary. */
    void finished(TrainResult result) {
        running = false;
        modelFile = result.modelFile();
        SwingUtilities.invokeLater(() -> {
            progress.setValue(1000);
            progress.setString("done: " + result.iterations() + " iterations" + (result.stoppedEarly() ? " (finished early)" : ""));
            info.setText(String.format("best validation %.4f bits/dim - model saved to %s", result.validationBitsPerDim(), result.modelFile()));
            stop.setEnabled(false);
            finish.setEnabled(false);
            save.setEnabled(true);
            plot.repaint();
        });
    }

    /** Training was stopped: no model. */
    void stopped() {
        ended("stopped: no model written");
    }

    /** Training failed with {@code message}. */
    void failed(String message) {
        ended("failed: " + message);
    }

    private void ended(String text) {
        running = false;
        SwingUtilities.invokeLater(() -> {
            progress.setString(text);
            stop.setEnabled(false);
            finish.setEnabled(false);
        });
    }

    private void stopRequested() {
        cancellation.cancel();
        stop.setEnabled(false);
        finish.setEnabled(false);
        progress.setString("stopping...");
    }

    private void saveCopy() {
        Path source = modelFile;
        if (source == null) return;
        JFileChooser chooser = new JFileChooser(source.getParent() == null ? null : source.getParent().toFile());
        chooser.setFileFilter(new FileNameExtensionFilter("Flow models (*.flow)", "flow"));
        chooser.setSelectedFile(new File(source.getFileName().toString()));
        if (chooser.showSaveDialog(frame) != JFileChooser.APPROVE_OPTION) return;
        Path target = chooser.getSelectedFile().toPath();
        if (!target.getFileName().toString().endsWith(".flow")) target = target.resolveSibling(target.getFileName() + ".flow");
        try {
            if (!target.toAbsolutePath().equals(source.toAbsolutePath()))
                Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
            info.setText("model saved to " + target);
        } catch (IOException e) {
            JOptionPane.showMessageDialog(frame, "Could not save the model to " + target + ": " + e.getMessage(),
                    "Flow Training", JOptionPane.ERROR_MESSAGE);
        }
    }

    private static void onEdt(Runnable r) {
        if (SwingUtilities.isEventDispatchThread()) {
            r.run();
            return;
        }
        try {
            SwingUtilities.invokeAndWait(r);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (InvocationTargetException e) {
            throw new IllegalStateException("could not open the training window: " + e.getCause(), e.getCause());
        }
    }
}
