// The styles of the login page's Element Plus components (LoginView.vue imports them itself;
// the rest come with elementPlusStyles.ts once the app is signed in). The theme's CSS files
// themselves, not `element-plus/es/components/*/style/css`: those are modules that unit tests
// (Node) cannot load, and LoginView's tests import this file.
import 'element-plus/theme-chalk/base.css'
import 'element-plus/theme-chalk/el-alert.css'
import 'element-plus/theme-chalk/el-button.css'
import 'element-plus/theme-chalk/el-card.css'
import 'element-plus/theme-chalk/el-checkbox.css'
import 'element-plus/theme-chalk/el-form.css'
import 'element-plus/theme-chalk/el-form-item.css'
import 'element-plus/theme-chalk/el-input.css'
import 'element-plus/theme-chalk/el-tag.css'
