package org.flowfiji.ij1;

import org.flowfiji.fiji.FlowTrainCommand;

/** ImageJ 1.x menu entry for {@link FlowTrainCommand} (see {@link CommandLauncher}). */
public final class FlowTrainLauncher extends CommandLauncher {

    public FlowTrainLauncher() {
        super(FlowTrainCommand.class);
    }
}
