"""measurer.gui.canvas"""
