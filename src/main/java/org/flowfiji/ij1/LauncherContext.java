package org.flowfiji.ij1;

import ij.IJ;
import org.scijava.Context;
import org.scijava.app.StatusService;
import org.scijava.app.event.StatusEvent;
import org.scijava.command.CommandService;
import org.scijava.event.EventHandler;
import org.scijava.event.EventService;
import org.scijava.log.LogLevel;
import org.scijava.log.LogListener;
import org.scijava.log.LogMessage;
import org.scijava.log.LogService;
import org.scijava.plugin.DefaultPluginFinder;
import org.scijava.plugin.PluginIndex;

/**
 * The SciJava context the ImageJ 1.x launchers run the commands in, created once on first use with only
 * the services the commands need. Plugins are discovered with the launcher's own class loader (ImageJ
 * loads plugin jars with its plugin class loader). While an ImageJ window is open, log messages go to
 * ImageJ's Log window and status events to its status bar and progress bar.
 */
final class LauncherContext {

    private static Context context;
    /** Held here: the event service keeps subscribers weakly. */
    private static Object statusBridge;

    private LauncherContext() {}

    /** The shared context, created on first call. */
    static synchronized Context get() {
        if (context != null) return context;
        ClassLoader loader = LauncherContext.class.getClassLoader();
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            context = new Context(Context.serviceClassList(CommandService.class, StatusService.class, LogService.class),
                    new PluginIndex(new DefaultPluginFinder(loader)));
        } finally {
            thread.setContextClassLoader(previous);
        }
        bridgeToImageJ(context);
        return context;
    }

    private static void bridgeToImageJ(Context ctx) {
        LogService log = ctx.service(LogService.class);
        log.addLogListener(new LogListener() {
            @Override
            public void messageLogged(LogMessage message) {
                if (IJ.getInstance() != null && message.level() <= LogLevel.INFO) IJ.log(message.text());
            }
        });
        statusBridge = new StatusBridge();
        ctx.service(EventService.class).subscribe(statusBridge);
    }

    /** Forwards SciJava status events to ImageJ's status and progress bars. */
    private static final class StatusBridge {
        @EventHandler
        private void onEvent(StatusEvent e) {
            if (IJ.getInstance() == null) return;
            String message = e.getStatusMessage();
            if (message != null) IJ.showStatus(message);
            int max = e.getProgressMaximum();
            if (max > 0) IJ.showProgress(e.getProgressValue(), max);
            else if (message == null || message.isEmpty()) IJ.showProgress(1.0);
        }
    }
}
