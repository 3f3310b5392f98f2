package org.flowfiji.model;

import ai.djl.engine.Engine;

/**
 * Starts DJL's PyTorch engine once per JVM, offline, with the class loader that can see its jars.
 *
 * <p>Inside Fiji the plugin's classes come from a plugin class loader that is not the thread's
 * context class loader; DJL finds its engine and native library through the context class loader,
 * so it is set for the duration of the start.
 */
public final class Engines {
    private Engines() {}

    private static volatile Engine engine;

    public static Engine pytorch() {
        Engine e = engine;
        if (e != null) return e;
        synchronized (Engines.class) {
            if (engine == null) {
                if (System.getProperty("ai.djl.offline") == null) System.setProperty("ai.djl.offline", "true");
                Thread t = Thread.currentThread();
                ClassLoader before = t.getContextClassLoader();
                t.setContextClassLoader(Engines.class.getClassLoader());
                try {
                    engine = Engine.getEngine("PyTorch");
                } catch (RuntimeException | Error err) {
                    throw new IllegalStateException("The PyTorch engine could not start: " + err.getMessage()
                            + ". Check that pytorch-engine, pytorch-jni and pytorch-native-cpu (or -cu*) jars are installed.", err);
                } finally {
                    t.setContextClassLoader(before);
                }
            }
            return engine;
        }
    }
}
