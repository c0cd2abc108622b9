"""measurer.gui.dialogs"""
