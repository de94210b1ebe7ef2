/** Entry of /console: the teacher's (and admin's) console. */
import ai from '../lib/ai/messages.ts';
import chat from '../lib/components/chat/messages.ts';
import { mountPage } from '../lib/mount.tsx';
import { ConsoleApp } from './App.tsx';
import messages from './messages.ts';
import './console.css';
import './panels.css';

mountPage(<ConsoleApp />, chat, ai, messages);
