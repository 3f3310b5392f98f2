package org.flowfiji.ij1;

import org.flowfiji.fiji.FlowSampleCommand;

/** ImageJ 1.x menu entry for {@link FlowSampleCommand} (see {@link CommandLauncher}). */
public final class FlowSampleLauncher extends CommandLauncher {

    public FlowSampleLauncher() {
        super(FlowSampleCommand.class);
    }
}
