// Only the Element Plus components the app uses, with their styles (issue 18): the whole
// library and its stylesheet were a third of the start-up script and most of the CSS the
// webview parses and keeps. A component used in a template must be listed here;
// elementPlus.test.ts checks every `<el-*>` tag in src/ against this list. Their styles are in
// elementPlusStyles.ts (apart, so unit tests load the components without CSS).
import type { App, Plugin } from 'vue'
import {
  ElAlert, ElButton, ElCard, ElCheckbox, ElColorPicker, ElConfigProvider, ElContainer,
  ElDatePicker, ElDescriptions, ElDialog, ElDrawer, ElDropdown, ElEmpty, ElForm, ElIcon,
  ElInput, ElInputNumber, ElMenu, ElProgress, ElRadio, ElResult, ElSelect, ElTable, ElTabs,
  ElTag, ElText,
} from 'element-plus'
/**
 * Each entry installs its tag and the sub-tags that come with it (ElForm: el-form-item,
 * ElSelect: el-option, ElTable: el-table-column, ElRadio: el-radio-group / el-radio-button,
 * ElDropdown: el-dropdown-menu / el-dropdown-item, ElContainer: el-aside / el-header / el-main,
 * ElMenu: el-menu-item, ElTabs: el-tab-pane, ElDescriptions: el-descriptions-item).
 */
export const COMPONENTS: Plugin[] = [
  ElAlert, ElButton, ElCard, ElCheckbox, ElColorPicker, ElConfigProvider, ElContainer,
  ElDatePicker, ElDescriptions, ElDialog, ElDrawer, ElDropdown, ElEmpty, ElForm, ElIcon,
  ElInput, ElInputNumber, ElMenu, ElProgress, ElRadio, ElResult, ElSelect, ElTable, ElTabs,
  ElTag, ElText,
]

export const elementPlus: Plugin = {
  install(app: App) {
    for (const component of COMPONENTS) app.use(component)
  },
}
