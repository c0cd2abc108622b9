"""measurer.gui.panels"""
