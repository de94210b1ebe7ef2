/** Entry of /login: teachers and admins sign in. */
import { mountPage } from '../lib/mount.tsx';
import { LoginPage } from './LoginPage.tsx';
import messages from './messages.ts';

mountPage(<LoginPage />, messages);
